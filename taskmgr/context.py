"""What a running task sees of the manager: its identity, cancellation and reporting."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Hashable
from typing import Any, Protocol

from taskmgr.errors import TaskCancelled
from taskmgr.record import TaskRecord


class _Publisher(Protocol):
    def _publish(
        self, record: TaskRecord, progress: float | None, message: str | None, data: Any
    ) -> None: ...

    def _cancel_event(self, record: TaskRecord) -> threading.Event: ...

    def _when_cancelled(self, record: TaskRecord, callback: Callable[[], None]) -> None: ...


class TaskContext:
    """The first argument of every task function ``fn(ctx, **kwargs)``.

    Cancellation is cooperative: a task calls ``check()``, ``sleep()`` or
    ``report()`` now and then, and each raises ``TaskCancelled`` once cancel
    was requested. An ``async def`` task needs none of that: a cancel interrupts
    it at its next await (``await ctx.asleep(s)``, or any other).
    """

    __slots__ = ("_publisher", "_record", "owner", "task_id")

    def __init__(self, publisher: _Publisher, record: TaskRecord) -> None:
        self._publisher = publisher
        self._record = record
        self.task_id: Hashable = record.task_id
        self.owner: Hashable = record.owner

    @property
    def cancel_event(self) -> threading.Event:
        """Set once cancel is requested; wait on it to wake at once on cancel."""
        return self._record.cancel_event or self._publisher._cancel_event(self._record)

    @property
    def cancelled(self) -> bool:
        return self._record.cancel_requested

    def check(self) -> None:
        """Raise ``TaskCancelled`` if cancel was requested."""
        if self._record.cancel_requested:
            raise TaskCancelled(self.task_id)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once and raise ``TaskCancelled`` on cancel.

        ``math.inf`` sleeps until cancelled.
        """
        timeout = _sleep_seconds("ctx.sleep()", seconds)
        if self._record.is_async and _on_an_event_loop():  # a thread of its own may sleep
            raise TypeError(
                "ctx.sleep() would block the event loop that every async task shares: "
                "use `await ctx.asleep(seconds)` in an async def task"
            )
        if self.cancel_event.wait(timeout):
            raise TaskCancelled(self.task_id)

    async def asleep(self, seconds: float) -> None:
        """``sleep`` for an ``async def`` task: a cancel interrupts it like any await.

        ``math.inf`` sleeps until cancelled. Raises ``TaskCancelled`` if cancel was
        requested before it began (a job that caught the interruption carries on).
        """
        timeout = _sleep_seconds("ctx.asleep()", seconds)
        self.check()
        if timeout is None:
            await asyncio.get_running_loop().create_future()  # resolved by nobody: a cancel
        else:
            await asyncio.sleep(timeout)

    def report(
        self, progress: float | None = None, message: str | None = None, data: Any = None
    ) -> None:
        """Publish a partial result; an argument left None keeps its previous value."""
        self.check()
        if progress is not None:
            progress = _clamped_progress(progress)
        self._publisher._publish(self._record, progress, message, data)

    def output(self, status: Any, data: Any) -> None:
        """streamlit-octostar-utils' form of ``report(data=data)``; ``status`` is ignored."""
        self.report(data=data)

    def _when_cancelled(self, callback: Callable[[], None]) -> None:
        """For a runner: call ``callback`` (cheap, thread-safe) once cancel is requested,
        now if it already was."""
        self._publisher._when_cancelled(self._record, callback)


def _on_an_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _sleep_seconds(what: str, seconds: float) -> float | None:
    """How long a sleep waits: None for ``math.inf`` (until cancelled), at least 0."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} takes a number of seconds, got {seconds!r}")
    if math.isnan(seconds):
        raise ValueError(f"{what} takes a number of seconds, got NaN")
    return None if math.isinf(seconds) and seconds > 0 else max(0.0, seconds)


def _clamped_progress(progress: float) -> float:
    try:
        value = float(progress)
    except (TypeError, ValueError):
        raise TypeError(f"progress must be a number, got {progress!r}") from None
    if value != value:
        raise ValueError("progress must be a number between 0 and 1, got NaN")
    return min(1.0, max(0.0, value))
