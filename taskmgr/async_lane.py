"""The ``async def`` tasks' side of the manager: their own queue, slots and per-owner counts.

A coroutine that awaits holds no thread, so coroutine tasks do not take worker
slots: they wait in a fair queue of their own (a plain task never waits behind a
coroutine for a loop slot, nor the other way round) and run under ``max_async``.
Everything here is guarded by the manager's lock.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Hashable
from types import FunctionType
from typing import Any

from taskmgr.fair_queue import FairQueue
from taskmgr.record import TaskRecord
from taskmgr.runners.protocol import CancelWork
from taskmgr.status import TaskStatus

logger = logging.getLogger(__name__)

_CO_COROUTINE = inspect.CO_COROUTINE


def is_coroutine_function(fn: Callable[..., Any]) -> bool:
    """Whether calling ``fn`` gives a coroutine to await: an ``async def`` function, a
    ``functools.partial`` of one, or an object whose ``__call__`` is one."""
    if type(fn) is FunctionType:  # the common case, on every submit: no inspect call
        return bool(fn.__code__.co_flags & _CO_COROUTINE)
    if inspect.iscoroutinefunction(fn):
        return True
    if isinstance(fn, functools.partial):
        return is_coroutine_function(fn.func)
    call = getattr(type(fn), "__call__", None)  # noqa: B004 (a callable object's method)
    return call is not None and inspect.iscoroutinefunction(call)


class AsyncLane:
    """Queued and running coroutine tasks, and what cancels each running one."""

    def __init__(self, max_async: int, max_running_per_owner: int | None) -> None:
        self.max_async = max_async
        self.max_running_per_owner = max_running_per_owner
        self.queue: FairQueue[TaskRecord] = FairQueue()
        self.running: dict[TaskRecord, CancelWork | None] = {}
        self.running_per_owner: dict[Hashable, int] = {}
        self.may_serve = self._under_cap if max_running_per_owner is not None else None

    def __bool__(self) -> bool:
        """True while any coroutine task is queued or running."""
        return bool(self.running) or bool(self.queue)

    def has_room(self) -> bool:
        return len(self.running) < self.max_async

    def occupy(self, record: TaskRecord) -> None:
        """``record`` takes a slot; its cancel is set once the runner has it."""
        self.running[record] = None
        self.running_per_owner[record.owner] = self.running_per_owner.get(record.owner, 0) + 1

    def release(self, record: TaskRecord) -> None:
        del self.running[record]
        left = self.running_per_owner[record.owner] - 1
        if left:
            self.running_per_owner[record.owner] = left
        else:
            del self.running_per_owner[record.owner]

    def interrupt(self, record: TaskRecord) -> None:
        """Cancel a running coroutine at its next await (called under the manager's lock,
        perhaps while settling another task: it never raises)."""
        cancel = self.running.get(record)
        if cancel is None:
            return
        try:
            cancel()
        except Exception:
            logger.exception("could not cancel the coroutine of task %r", record.task_id)

    def cancelling(self) -> int:
        return sum(1 for record in self.running if record.status is TaskStatus.CANCELLING)

    def _under_cap(self, owner: Hashable) -> bool:
        cap = self.max_running_per_owner
        return cap is None or self.running_per_owner.get(owner, 0) < cap
