"""Running the manager's tasks: handing them to workers and the event loop, settling them.

Thread tasks: a worker that finishes hands its task in to the lock without waiting
(combining.py); the lock holder settles it and gives the worker its next task in
fair order; with none left the worker lingers briefly on a lock that a new
submission releases, then returns its thread. Coroutine tasks run on the coroutine
runner's loop and are settled there, a loop iteration's worth under one lock. The
methods a running task's ``TaskContext`` calls land here too.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from types import CoroutineType
from typing import Any

from taskmgr.context import TaskContext
from taskmgr.errors import TaskCancelled
from taskmgr.failures import failure_text
from taskmgr.handoff import CANCELLED, HandedIn, Outcome, Worker
from taskmgr.record import TaskRecord
from taskmgr.runners.backend import RemoteCall
from taskmgr.snapshot import Owner, TaskSnapshot
from taskmgr.status import TaskStatus
from taskmgr.transitions import TaskTransitions

# The manager's logger: these lines belong to it, and operators filter on its name.
logger = logging.getLogger("taskmgr.manager")

#: How long a worker with nothing to do waits for a new task before freeing its thread.
LINGER_S = 0.5
_RETURNED_A_COROUTINE = (
    "the task function returned a coroutine without awaiting it: submit the async def "
    "function itself (or a functools.partial of it) so that it runs on the event loop"
)


class TaskExecution(TaskTransitions):
    """The manager's workers and event-loop tasks; the attributes are the manager's."""

    _idle: list[Worker]
    _may_serve: Callable[[Owner], bool] | None
    _remote_call: RemoteCall | None
    _async_ended: list[tuple[TaskRecord, Outcome]]

    def _dispatch_locked(self, events: list[TaskSnapshot]) -> None:
        """Hand queued tasks to free workers, in fair order."""
        while len(self._running) < self.max_workers:
            record = self._queue.pop_next(self._may_serve)
            if record is None:
                return
            self._start_locked(record, events)
            if self._idle:
                worker = self._idle.pop()
                worker.task = record
                worker.wake.release()
                continue
            try:
                self._runner.start(partial(self._work, [record]))
            except BaseException as exc:
                logger.exception("the runner could not start a worker")
                self._fail_start_locked(
                    record,
                    RuntimeError(f"could not start a worker for this task: {exc}"),
                    "could not start: the server is out of workers",
                    events,
                )
                return

    def _dispatch_async_locked(self, events: list[TaskSnapshot]) -> None:
        """Hand queued coroutine tasks to the event loop, in fair order, up to max_async."""
        lane = self._async
        while lane.has_room():
            record = lane.queue.pop_next(lane.may_serve)
            if record is None:
                return
            record.move_to(TaskStatus.IN_PROGRESS, self._next_version())
            record.started_at = time.time()
            lane.occupy(record)
            self._note_locked(record, events)
            try:
                work = partial(self._work_async, record)
                label = partial(_label, record)
                lane.running[record] = self._async_runner.start(work, label)
            except BaseException as exc:
                logger.exception("the event loop could not take a coroutine task")
                self._fail_start_locked(
                    record,
                    RuntimeError(f"could not start this task on the event loop: {exc}"),
                    "could not start: the event loop is not available",
                    events,
                )
                return

    def _fail_start_locked(
        self, record: TaskRecord, error: RuntimeError, message: str, events: list[TaskSnapshot]
    ) -> None:
        """A task its runner would not take: its slot back, and ERROR with what happened."""
        self._release_worker_locked(record)
        record.error = error
        record.message = message
        self._make_final_locked(record, TaskStatus.ERROR, events)

    # -- running (worker threads) -----------------------------------------------------

    def _work(self, handed: list[TaskRecord]) -> None:
        """A worker: run tasks in fair order until none comes within LINGER_S.

        The first task arrives in a list that is emptied at once, and the finished
        task is unbound before the wait for the next, so a worker (lingering or busy)
        keeps no finished task's result alive.
        """
        record: TaskRecord | None = handed.pop()
        worker = Worker()
        while record is not None:
            self._lock.hand_in((record, self._call(record), worker))
            del record
            record = self._next_task(worker)

    def _next_task(self, worker: Worker) -> TaskRecord | None:
        """Once this worker's task is settled, tell the listeners; then its next task."""
        worker.settled.acquire()  # by this thread, or by the lock's holder as it releases
        upcoming, worker.upcoming = worker.upcoming, None
        self._emit(worker.take_events())
        return upcoming if upcoming is not None else self._linger(worker)

    def _settle_handed_in(self, handed_in: list[HandedIn]) -> None:
        """Under the lock: finish what workers handed in and give each its next task.

        Every event goes to a worker, to be emitted there: whichever thread holds the
        lock (a script's, say) never runs listeners for other tasks. A worker with
        nothing to do joins the idle list here, keeping its slot.
        """
        try:
            for record, outcome, worker in handed_in:
                self._finish_locked(record, outcome, worker.events)
                upcoming = self._queue.pop_next(self._may_serve)
                worker.task = None
                if upcoming is not None:
                    self._start_locked(upcoming, worker.events)
                elif self._closed:
                    worker.wake.release()  # nothing more will come: its linger ends at once
                else:
                    self._idle.append(worker)
                worker.upcoming = upcoming
            if self._queue:  # a cap lifted by a later task in the batch: the last worker tells
                self._dispatch_locked(handed_in[-1][2].events)
        finally:  # even after a bug above: a worker never waits for ever
            for _, _, worker in handed_in:
                worker.settled.release()

    def _linger(self, worker: Worker) -> TaskRecord | None:
        """Wait for a handoff; None when none came in time (the thread goes back)."""
        if not worker.wake.acquire(timeout=LINGER_S):
            with self._lock:
                if worker in self._idle:
                    self._idle.remove(worker)
                handed = worker.task is not None
            if not handed:
                return None
            worker.wake.acquire()  # a dispatcher took us just as we timed out: released
        return worker.task

    def _release_idle_locked(self) -> None:
        for worker in self._idle:
            worker.task = None
            worker.wake.release()
        self._idle.clear()

    def _call(self, record: TaskRecord) -> Outcome:
        fn, kwargs = record.fn, record.kwargs
        if record.cancel_requested or fn is None or kwargs is None:
            return CANCELLED
        try:
            if self._remote_call is not None:
                result = self._remote_call(fn, TaskContext(self, record), kwargs)
            else:
                result = fn(TaskContext(self, record), **kwargs)
            if type(result) is CoroutineType:
                result.close()
                raise TypeError(_RETURNED_A_COROUTINE)
            return result, None, None, False
        except TaskCancelled:
            return CANCELLED
        except BaseException as exc:
            return None, exc, failure_text(record, exc), False

    # -- running (the event loop) -----------------------------------------------------

    async def _work_async(self, record: TaskRecord) -> None:
        """A coroutine task on the loop: await it, then leave it to be settled.

        Tasks that end in the same loop iteration are settled together, at its end,
        under one acquisition of the lock: the loop thread does not queue on it per task.
        """
        outcome = await self._call_async(record)
        ended = self._async_ended
        ended.append((record, outcome))
        if len(ended) == 1:
            asyncio.get_running_loop().call_soon(self._settle_async)

    def _settle_async(self) -> None:
        """On the loop thread: finish the coroutine tasks that ended, start the next ones."""
        ended, self._async_ended = self._async_ended, []
        events: list[TaskSnapshot] = []
        with self._lock:
            for record, outcome in ended:
                self._finish_locked(record, outcome, events)
            self._dispatch_async_locked(events)
        self._emit(events)

    async def _call_async(self, record: TaskRecord) -> Outcome:
        """``_call`` for a coroutine: a cancel interrupts it at its next await (the job
        need not poll), and ``timeout_s`` is a timer on its loop that does the same."""
        fn, kwargs = record.fn, record.kwargs
        if record.cancel_requested or fn is None or kwargs is None:
            return CANCELLED
        timer = None
        if record.timeout_s is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(record.timeout_s, self._on_timeout, record)
        try:
            result = await self._async_runner.call(fn, TaskContext(self, record), kwargs)
            return result, None, None, False
        except (TaskCancelled, asyncio.CancelledError):
            return CANCELLED
        except BaseException as exc:
            return None, exc, failure_text(record, exc), False
        finally:
            if timer is not None:
                timer.cancel()

    def _publish(
        self, record: TaskRecord, progress: float | None, message: str | None, data: Any
    ) -> None:
        """TaskContext.report lands here, on the task's own thread."""
        events: list[TaskSnapshot] = []
        with self._lock:
            if record.cancel_requested:
                # Checked again under the lock: a cancel may have come since ctx.check().
                raise TaskCancelled(record.task_id)
            if record.status.is_final:
                return
            if progress is not None:
                record.progress = progress
            if message is not None:
                record.message = message
            if data is not None:
                record.data = data
            record.version = self._next_version()
            self._note_locked(record, events, publish=True)
        self._emit(events)

    def _cancel_event(self, record: TaskRecord) -> threading.Event:
        """TaskContext.cancel_event lands here: the event is made on first use."""
        with self._lock:
            return record.event()

    def _when_cancelled(self, record: TaskRecord, callback: Callable[[], None]) -> None:
        """TaskContext._when_cancelled lands here: a runner forwards cancels this way."""
        with self._lock:
            if record.cancel_requested:
                callback()
            elif not record.status.is_final:
                record.on_cancel = callback


def _label(record: TaskRecord, limit: int = 200) -> str:
    """How the event loop's watchdog names a task: its name and id, kept short."""
    text = f"{record.name} ({record.task_id!r})"
    return text if len(text) <= limit else text[: limit - 3] + "..."
