"""What a worker thread and the manager's lock exchange when a task ends.

A worker hands in its finished task and its outcome without waiting for the lock
(see combining.py); whoever holds the lock settles it and leaves the worker its
next task in the worker's mailboxes.
"""

from __future__ import annotations

import threading
from typing import Any

from taskmgr.record import TaskRecord
from taskmgr.snapshot import TaskSnapshot

#: What running a task gave: result, error, formatted traceback, whether it was cancelled.
Outcome = tuple[Any, BaseException | None, str | None, bool]
CANCELLED: Outcome = (None, None, None, True)


class Worker:
    """One worker thread's two mailboxes.

    ``settled`` is released once the task it handed in is settled: ``upcoming`` is
    then its next task (None: none queued) and ``events`` what it owes the
    listeners. ``wake`` is released when a task is handed to it while it lingers.
    """

    __slots__ = ("events", "settled", "task", "upcoming", "wake")

    def __init__(self) -> None:
        self.events: list[TaskSnapshot] = []
        self.upcoming: TaskRecord | None = None
        self.task: TaskRecord | None = None
        self.settled = threading.Lock()
        self.settled.acquire()
        self.wake = threading.Lock()
        self.wake.acquire()

    def take_events(self) -> list[TaskSnapshot]:
        events, self.events = self.events, []
        return events


#: What a worker hands in: the task it ran, how that went, and itself, to be given more.
HandedIn = tuple[TaskRecord, Outcome, Worker]
