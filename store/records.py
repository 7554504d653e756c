"""The records the store hands out and takes in: plain frozen dataclasses, no SQL."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from taskmgr import TaskSnapshot, TaskStatus

#: (owner, task id) as the store keys a task; owners and ids are kept as text.
TaskKey = tuple[str, str]

if TYPE_CHECKING:  # sessions imports Streamlit: not needed to run migrations
    from sessions import SessionInfo


def task_key(owner: Hashable, task_id: Hashable) -> TaskKey:
    return ("" if owner is None else str(owner), str(task_id))


class StoredError(Exception):
    """A task's error as the store kept it: its one-line text, no live exception."""


@dataclass(frozen=True)
class StoredTask:
    """A task as last written by the process that ran it (or as marked when it died)."""

    owner: str
    task_id: str
    job: str
    params: Mapping[str, Any] | None
    status: TaskStatus
    progress: float | None
    message: str | None
    data: Any
    result: Any
    error: str | None
    traceback: str | None
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    process_id: str
    cancel_requested_at: float | None
    updated_at: float

    @property
    def key(self) -> TaskKey:
        return (self.owner, self.task_id)

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    def to_snapshot(self) -> TaskSnapshot:
        """The same task as the manager's record, so the pages draw both alike."""
        return TaskSnapshot(
            id=self.task_id,
            owner=self.owner,
            name=self.job,
            status=self.status,
            progress=self.progress,
            message=self.message,
            data=self.data,
            result=self.result,
            error=StoredError(self.error) if self.error else None,
            traceback=self.traceback,
            submitted_at=self.submitted_at,
            started_at=self.started_at,
            finished_at=self.finished_at,
            queue_position=None,
            version=0,
        )


@dataclass(frozen=True)
class StoredSession:
    """A browser session, live or ended: the Admin page's session history."""

    session_id: str
    owner: str | None
    state: str
    started_at: float
    last_heartbeat: float | None
    disconnected_at: float | None
    ended_at: float | None
    user_agent: str | None
    client_ip: str | None
    page: str | None
    script_runs: int
    process_id: str

    @property
    def duration_s(self) -> float | None:
        """How long it lasted (so far, for a live one, as of its last heartbeat)."""
        end = self.ended_at or self.last_heartbeat
        return None if end is None else max(0.0, end - self.started_at)


@dataclass(frozen=True)
class ProcessRecord:
    """A server process sharing the store."""

    id: str
    host: str
    pid: int
    kind: str
    started_at: float
    last_heartbeat: float
    stopped_at: float | None = None
    stop_reason: str | None = None

    @property
    def alive(self) -> bool:
        return self.stopped_at is None


@dataclass(frozen=True)
class SessionWrite:
    info: SessionInfo
    ended_at: float | None


@dataclass(frozen=True)
class ParamsWrite:
    job: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class ValueWrite:
    kind: str
    raw: bytes
    written_at: float


@dataclass
class WriteBatch:
    """What the writer flushes in one transaction: the latest of each record, coalesced."""

    #: Keyed by the manager's own (owner, id), as hashable as they come: no work on the
    #: listener's path; the writer makes them text.
    tasks: dict[tuple[Hashable, Hashable], TaskSnapshot] = field(default_factory=dict)
    params: dict[tuple[Hashable, Hashable], ParamsWrite] = field(default_factory=dict)
    sessions: dict[str, SessionWrite] = field(default_factory=dict)
    values: dict[tuple[str, str], ValueWrite] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.tasks) + len(self.params) + len(self.sessions) + len(self.values)

    def absorb(self, newer: WriteBatch) -> None:
        """Merge ``newer`` (taken later) into this one; each record keeps its latest state."""
        for key, snapshot in newer.tasks.items():
            old = self.tasks.get(key)
            if old is None or _newer(snapshot, old):
                self.tasks[key] = snapshot
        self.params.update(newer.params)
        self.sessions.update(newer.sessions)
        self.values.update(newer.values)


def _newer(new: TaskSnapshot, old: TaskSnapshot) -> bool:
    """Versions order one manager's snapshots; a new task (a resubmitted id) has a new one."""
    return new.version >= old.version or new.submitted_at > old.submitted_at
