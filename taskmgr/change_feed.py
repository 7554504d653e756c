"""Coalesced changes: the latest state of each task that changed, pulled by its reader.

A listener gets a snapshot of every change, made under the manager's lock and handed
to it on the thread that made the change: three per task at least, one more per
progress report. A reader that keeps only each task's latest state (the durable store's
writer) needs none of the ones in between. A ``ChangeFeed`` notes which tasks changed
(the record itself, in an insertion-ordered dict: nothing is made per change) and
builds one snapshot per changed task when its reader calls ``take``. The reader learns
that there is something to take from a ``threading.Event`` the feed sets when its first
change arrives after a take.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from itertools import islice
from typing import Protocol

from taskmgr.record import TaskRecord
from taskmgr.snapshot import TaskSnapshot

#: Snapshots built per ``take`` by default: each is made under the manager's lock, which
#: submits and workers wait for meanwhile (about 0.3 µs a snapshot).
TAKE_LIMIT = 1_000


class _Lock(Protocol):
    def __enter__(self) -> object: ...

    def __exit__(self, *exc: object) -> None: ...


class ChangeFeed:
    """The tasks of one manager that changed since the last ``take``; thread-safe.

    Made by ``AsyncTaskManager.change_feed``; the manager calls ``note_locked``.
    """

    def __init__(
        self,
        lock: _Lock,
        snapshot_locked: Callable[[TaskRecord], TaskSnapshot],
        wake: threading.Event | None,
        remove: Callable[[ChangeFeed], None],
    ) -> None:
        self._lock = lock
        self._snapshot_locked = snapshot_locked
        self._wake = wake
        self._remove = remove
        self._changed: dict[TaskRecord, None] = {}
        self._closed = False

    def note_locked(self, record: TaskRecord) -> None:
        """Under the manager's lock: ``record`` changed. Only sets an event: never blocks.

        The change is stored before the event is set: a reader that wakes and finds
        nothing to take goes back to sleep, and no later change would wake it again."""
        changed = self._changed
        first = not changed
        changed[record] = None
        if first and self._wake is not None:
            self._wake.set()

    def drop_locked(self, record: TaskRecord) -> None:
        """Under the manager's lock: ``record`` was replaced by a resubmission of its id,
        which now stands for the new task; its own changes are no one's to take."""
        self._changed.pop(record, None)

    def pending(self) -> int:
        """Tasks changed since the last take (a read without the lock: a hint)."""
        return len(self._changed)

    def take(self, limit: int = TAKE_LIMIT) -> list[TaskSnapshot]:
        """The latest snapshot of up to ``limit`` changed tasks, first changed first.

        A task forgotten since its change (retention) is still included: its final
        state is what a reader wants. One replaced by a resubmission of its id is not:
        the id is its successor's.
        """
        with self._lock:
            changed = self._changed
            if len(changed) <= limit:
                records = list(changed)
                changed.clear()
            else:
                records = list(islice(changed, limit))
                for record in records:
                    del changed[record]
            snapshot = self._snapshot_locked
            return [snapshot(record) for record in records]

    def close(self) -> None:
        """No more changes are noted; what was noted is dropped."""
        if self._closed:
            return
        self._closed = True
        self._remove(self)
        with self._lock:
            self._changed.clear()
