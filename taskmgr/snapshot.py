"""Immutable records the manager hands out: a task's state, and the pool's."""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from taskmgr.status import TaskStatus

#: Who a task belongs to: a browser tab's token, a user name, or None (the default owner).
Owner = Hashable


class TaskSnapshot(NamedTuple):
    """One task as it stood at one moment; ``version`` orders snapshots of one task id.

    ``queue_position`` is read from the queue when the snapshot is made and is not
    covered by ``version``.

    An immutable tuple (cheap to make on every poll). It also reads as a mapping
    (``snap["status"]``, ``snap["data"]``) so that code written for
    streamlit-octostar-utils keeps working.
    """

    id: Hashable
    owner: Owner
    name: str
    status: TaskStatus
    progress: float | None
    message: str | None
    data: Any
    result: Any
    error: BaseException | None
    traceback: str | None
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    queue_position: int | None
    version: int

    @property
    def is_final(self) -> bool:
        return self.status.is_final

    @property
    def elapsed_s(self) -> float | None:
        """Seconds spent running so far (or in all, once final); None while queued."""
        if self.started_at is None:
            return None
        end = self.finished_at if self.finished_at is not None else time.time()
        return max(0.0, end - self.started_at)

    def __getitem__(self, key: str) -> Any:  # type: ignore[override]
        if key == "data":
            if self.status is TaskStatus.SUCCESS:
                return self.result
            if self.status is TaskStatus.ERROR:
                return self.error
            return self.data
        if isinstance(key, str) and key in _FIELD_INDEX:
            return tuple.__getitem__(self, _FIELD_INDEX[key])
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self) -> tuple[str, ...]:
        return self._fields

    def __contains__(self, key: object) -> bool:
        return key in _FIELD_INDEX


_FIELD_INDEX: dict[str, int] = {name: i for i, name in enumerate(TaskSnapshot._fields)}


@dataclass(frozen=True, slots=True)
class OwnerStats:
    """One owner's share of the pool: worker threads, and ``async def`` tasks apart."""

    running: int
    queued: int
    async_running: int = 0
    async_queued: int = 0


@dataclass(frozen=True, slots=True)
class LoopHealth:
    """Whether the event loop of the ``async def`` tasks answers promptly.

    A coroutine that computes without awaiting holds the loop, and every other async
    task with it; ``stalls`` counts such episodes (longer than the watchdog's
    threshold) and ``blocking`` names the task holding it right now.
    """

    lag_s: float = 0.0
    max_lag_s: float = 0.0
    stalls: int = 0
    blocking: str | None = None
    last_blocker: str | None = None


@dataclass(frozen=True, slots=True)
class ManagerStats:
    """The pool at one moment: workers busy, queue depth, results kept.

    ``running`` and ``queued`` count plain tasks (they hold or wait for worker
    threads); ``async_running`` and ``async_queued`` count ``async def`` tasks, which
    share the event loop under ``max_async``. ``cancelling`` counts both kinds.
    """

    max_workers: int
    running: int
    queued: int
    cancelling: int
    retained: int
    per_owner: Mapping[Owner, OwnerStats] = field(default_factory=dict)
    max_async: int = 0
    async_running: int = 0
    async_queued: int = 0
    loop: LoopHealth = field(default_factory=LoopHealth)

    @property
    def idle_workers(self) -> int:
        return max(0, self.max_workers - self.running)
