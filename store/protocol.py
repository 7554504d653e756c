"""What a durable store does, whatever keeps the records (SQL today).

Callers (the app, the API process, workers) program against ``TaskStore``; ``SqlStore``
implements it on SQLite and PostgreSQL. Every method may block on the database, so
none is called from a task's worker thread or, for writes, from a script run: those go
through ``store.writer.WriteBehind``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from store.records import (
    ProcessRecord,
    StoredSession,
    StoredTask,
    TaskKey,
    WriteBatch,
)


class TaskStore(Protocol):
    url: str
    """The database URL, password masked."""

    def open(self) -> None:
        """Connect and migrate; ``StoreUnavailable`` or ``SchemaTooNew`` when it cannot."""

    def close(self) -> None: ...

    # -- writes (the writer thread) ------------------------------------------------------

    def write(self, batch: WriteBatch, process_id: str) -> None:
        """Write every record of ``batch`` in one transaction (all or nothing)."""

    def put_value(self, owner: str, key: str, kind: str, raw: bytes) -> None: ...

    # -- processes ------------------------------------------------------------------------

    def heartbeat(self, process: ProcessRecord, now: float) -> None:
        """Say ``process`` is alive (registers it on the first call, revives it if it was
        taken for dead while the database was away)."""

    def interrupt_dead(self, now: float, dead_after_s: float, me: str) -> list[TaskKey]:
        """Mark processes silent for ``dead_after_s`` dead, and their unfinished tasks
        INTERRUPTED; returns those tasks."""

    def stop_process(self, process_id: str, now: float) -> list[TaskKey]:
        """A clean stop: the process and whatever it still had unfinished."""

    def processes(self) -> list[ProcessRecord]: ...

    # -- cancel across processes ----------------------------------------------------------

    def request_cancel(self, owner: str, task_id: str, now: float) -> str | None:
        """Ask the process running the task to cancel it; its id, or None when the task is
        unknown or already final."""

    def take_cancel_requests(self, process_id: str) -> list[TaskKey]:
        """The cancels asked of ``process_id`` since its last call (each returned once)."""

    # -- reads ----------------------------------------------------------------------------

    def tasks(self, owner: str | None = None, limit: int = 200) -> list[StoredTask]:
        """That owner's tasks (every owner's for None), newest submission first."""

    def task(self, owner: str, task_id: str) -> StoredTask | None: ...

    def sessions(self, limit: int = 200) -> list[StoredSession]:
        """Sessions, live and ended, most recently changed first."""

    def get_value(self, owner: str, key: str) -> tuple[str, bytes] | None: ...

    def forget_before(self, cutoff: float) -> int:
        """Drop finished tasks, ended sessions and stopped processes older than ``cutoff``."""


def keys_of(tasks: Iterable[StoredTask]) -> set[TaskKey]:
    return {task.key for task in tasks}
