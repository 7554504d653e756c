"""The manager's private, mutable record of one task (guarded by the manager's lock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from taskmgr.deadlines import Deadline
from taskmgr.status import NEXT_BY_NAME, TaskStatus


class TaskRecord:
    """Everything known about one submitted task; snapshots are copies of it."""

    __slots__ = (
        "cancel_event",
        "cancel_requested",
        "data",
        "deadline",
        "error",
        "finished_at",
        "fn",
        "is_async",
        "kwargs",
        "message",
        "name",
        "on_cancel",
        "owner",
        "progress",
        "published",
        "result",
        "started_at",
        "status",
        "submitted_at",
        "task_id",
        "timed_out",
        "timeout_s",
        "traceback",
        "version",
        "visible",
    )

    def __init__(
        self,
        task_id: Hashable,
        owner: Hashable,
        name: str,
        fn: Callable[..., Any],
        kwargs: Mapping[str, Any],
        timeout_s: float | None,
        submitted_at: float,
        version: int,
    ) -> None:
        self.task_id = task_id
        self.owner = owner
        self.name = name
        self.fn: Callable[..., Any] | None = fn
        self.kwargs: Mapping[str, Any] | None = kwargs
        self.timeout_s = timeout_s
        self.submitted_at = submitted_at
        self.version = version
        self.status = TaskStatus.INIT
        self.progress: float | None = None
        self.message: str | None = None
        self.data: Any = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.traceback: str | None = None
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.cancel_requested = False
        # Made on first use (ctx.sleep, ctx.cancel_event): most tasks never need one.
        self.cancel_event: threading.Event | None = None
        self.deadline: Deadline | None = None
        self.timed_out = False
        self.is_async = False  # an async def task: it runs on the manager's event loop
        # Set by a runner that must forward a cancel elsewhere (a Dask worker); cheap.
        self.on_cancel: Callable[[], None] | None = None
        #: The latest snapshot, replaced (never changed) with every change: lock-free reads.
        self.published: Any = None
        #: In its owner's index: False once replaced by a resubmission or expired. Its
        #: changes then reach no listener (a flag: this is asked on every change).
        self.visible = True

    def request_cancel(self) -> None:
        """Under the manager's lock: flag the task, and wake it if it waits on its event."""
        self.cancel_requested = True
        if self.cancel_event is not None:
            self.cancel_event.set()
        if self.on_cancel is not None:
            self.on_cancel()

    def event(self) -> threading.Event:
        """Under the manager's lock: the task's cancel event, set if cancel was requested."""
        if self.cancel_event is None:
            self.cancel_event = threading.Event()
            if self.cancel_requested:
                self.cancel_event.set()
        return self.cancel_event

    def move_to(self, status: TaskStatus, version: int) -> None:
        if status not in NEXT_BY_NAME[self.status._name_]:
            raise AssertionError(f"task {self.task_id!r}: {self.status.name} -> {status.name}")
        self.status = status
        self.version = version

    def __repr__(self) -> str:
        return f"<TaskRecord {self.owner!r}/{self.task_id!r} {self.status.name}>"
