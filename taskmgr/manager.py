"""AsyncTaskManager: one bounded pool shared fairly by every session of a server.

State lives in TaskRecords guarded by one lock; callers get immutable
TaskSnapshots. A task is handed to the runner only when a worker is free. A worker
that finishes a task hands it in to the lock without waiting for it (whoever holds
the lock settles it: see combining.py) and receives its next task in fair order;
with none left it lingers briefly on a lock that a new submission releases (cheaper
than a new runner call in a burst), then returns its thread. ``async def`` tasks
take no thread: they queue and run apart (async_lane.py) on the coroutine runner's
event loop, and are settled there. Nothing ever polls: an idle manager costs no CPU.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
import traceback
from collections.abc import Callable, Hashable, Mapping
from functools import partial
from types import CoroutineType
from typing import Any

from cachetools import TTLCache

from taskmgr.async_lane import AsyncLane, is_coroutine_function
from taskmgr.combining import CombiningLock
from taskmgr.context import TaskContext
from taskmgr.deadlines import DeadlineTimer
from taskmgr.errors import ManagerClosed, QueueFull, TaskCancelled, UnknownTask
from taskmgr.fair_queue import FairQueue
from taskmgr.record import TaskRecord
from taskmgr.runners import AsyncioRunner, CoroutineRunner, TaskRunner
from taskmgr.runners.backend import RemoteCall, Vet, make_runner
from taskmgr.snapshot import ManagerStats, Owner, OwnerStats, TaskSnapshot
from taskmgr.status import TaskStatus

logger = logging.getLogger(__name__)

Listener = Callable[[TaskSnapshot], None]
_new_snapshot = tuple.__new__  # TaskSnapshot's generated __new__ is slower: this is hot
#: How long a worker with nothing to do waits for a new task before freeing its thread.
LINGER_S = 0.5
_Status = TaskStatus  # the class attribute of the same name shadows it inside the class
_Key = tuple[Hashable, Hashable]
#: What running a task gave: result, error, formatted traceback, whether it was cancelled.
_Outcome = tuple[Any, BaseException | None, str | None, bool]
_CANCELLED: _Outcome = (None, None, None, True)
_RETURNED_A_COROUTINE = (
    "the task function returned a coroutine without awaiting it: submit the async def "
    "function itself (or a functools.partial of it) so that it runs on the event loop"
)


class _ExpiringRecords(TTLCache[_Key, TaskRecord]):
    """Finished records, bounded by age and count; tells the manager what it drops."""

    def __init__(
        self, maxsize: int, ttl: float, on_evict: Callable[[_Key, TaskRecord], None]
    ) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl, timer=time.monotonic)
        self._on_evict = on_evict

    def expire(self, time: float | None = None) -> Any:
        expired = super().expire(time)
        for key, record in expired:
            self._on_evict(key, record)
        return expired

    def popitem(self) -> tuple[_Key, TaskRecord]:
        key, record = super().popitem()
        self._on_evict(key, record)
        return key, record


class _Worker:
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
_HandedIn = tuple[TaskRecord, _Outcome, _Worker]


class AsyncTaskManager:
    """Runs ``fn(ctx, **kwargs)`` tasks on a shared pool, fairly across owners.

    Every public method is thread-safe and returns at once, except ``join`` and
    ``shutdown(wait=True)``, which wait on a condition.
    """

    TaskStatus = TaskStatus
    CancelledError = TaskCancelled

    def __init__(
        self,
        max_workers: int = 8,
        *,
        max_queued_per_owner: int = 100,
        max_running_per_owner: int | None = None,
        result_ttl_s: float = 3600,
        max_results: int = 10_000,
        max_async: int = 100,
        backend: str | None = None,
        runner: TaskRunner | None = None,
        async_runner: CoroutineRunner | None = None,
        max_queued: int | None = None,
    ) -> None:
        _require_positive_int("max_workers", max_workers)
        _require_positive_int("max_queued_per_owner", max_queued_per_owner)
        if max_running_per_owner is not None:
            _require_positive_int("max_running_per_owner", max_running_per_owner)
        if max_queued is not None:
            _require_positive_int("max_queued", max_queued)
        _require_positive_number("result_ttl_s", result_ttl_s)
        _require_positive_int("max_results", max_results)
        _require_positive_int("max_async", max_async)
        self.max_workers = max_workers
        self.max_queued_per_owner = max_queued_per_owner
        self.max_running_per_owner = max_running_per_owner
        #: Workers kept for owners with nothing running, when owners are not capped.
        self.reserve = default_reserve(max_workers) if max_running_per_owner is None else 0
        #: Tasks queued across all owners at most (None: only the per-owner cap).
        self.max_queued = max_queued
        self.result_ttl_s = result_ttl_s
        self.max_results = max_results
        self.max_async = max_async

        self._lock: CombiningLock[_HandedIn] = CombiningLock(self._settle_handed_in)
        self._changed = threading.Condition(self._lock)  # type: ignore[arg-type]
        if runner is not None and runner.max_workers < max_workers:
            raise ValueError(
                f"the runner has {runner.max_workers} workers but max_workers={max_workers}: "
                "tasks would show IN_PROGRESS while they wait for a worker"
            )
        self._runner: TaskRunner = runner or make_runner(backend, max_workers)
        # A runner that runs tasks elsewhere (Dask) runs the function and vets submissions.
        self._remote_call: RemoteCall | None = getattr(self._runner, "call", None)
        self._vet: Vet | None = getattr(self._runner, "check", None)
        if async_runner is not None and async_runner.max_async < max_async:
            raise ValueError(
                f"the coroutine runner takes {async_runner.max_async} tasks at once but "
                f"max_async={max_async}: tasks would show IN_PROGRESS while they wait for it"
            )
        self._async_runner: CoroutineRunner = async_runner or AsyncioRunner(max_async)
        self._async = AsyncLane(max_async, max_running_per_owner)
        self._async_ended: list[tuple[TaskRecord, _Outcome]] = []  # the loop thread's only
        self._queue: FairQueue[TaskRecord] = FairQueue()
        self._tasks: dict[Owner, dict[Hashable, TaskRecord]] = {}
        self._finished = _ExpiringRecords(max_results, result_ttl_s, self._forget_locked)
        self._running: set[TaskRecord] = set()
        self._running_per_owner: dict[Owner, int] = {}
        self._idle: list[_Worker] = []
        # None when owners are neither capped nor held to a reserve: the queue then skips
        # a call per dispatch.
        limited = max_running_per_owner is not None or self.reserve > 0
        self._may_serve = self._under_cap if limited else None
        self._joiners = 0
        self._version = 0
        self._closed = False
        self._runner_released = False
        self._listeners: tuple[Listener, ...] = ()
        self._deadlines = DeadlineTimer()

    # -- octostar-compatible accessor -------------------------------------------------

    @staticmethod
    def get_handler(task_type: str = "default") -> AsyncTaskManager:
        """The process-wide manager for ``task_type`` (``st.cache_resource``)."""
        from taskmgr.resource import get_task_manager

        return get_task_manager(task_type)

    # -- submitting and reading -------------------------------------------------------

    def submit(
        self,
        task_id: Hashable,
        fn: Callable[..., Any],
        kwargs: Mapping[str, Any] | None = None,
        *,
        owner: Owner = None,
        name: str | None = None,
        timeout_s: float | None = None,
    ) -> TaskSnapshot:
        """Queue ``fn(ctx, **kwargs)`` under ``(owner, task_id)``; never blocks.

        A task of that id that is not final yet is cancelled and replaced. An ``async
        def`` function runs on the manager's event loop, under ``max_async``.
        """
        if not callable(fn):
            raise TypeError(f"task {task_id!r}: fn must be callable, got {type(fn).__name__}")
        _require_hashable("task_id", task_id)
        _require_hashable("owner", owner)
        if kwargs is None:
            kwargs = {}
        elif type(kwargs) is dict or isinstance(kwargs, Mapping):
            kwargs = dict(kwargs)
            for key in kwargs:
                if type(key) is not str:
                    raise TypeError(
                        f"task {task_id!r}: kwargs keys are parameter names and must be "
                        f"strings, got {key!r}"
                    )
        else:
            raise TypeError(
                f"task {task_id!r}: kwargs must be a mapping, got {type(kwargs).__name__}"
            )
        if timeout_s is not None:
            _require_positive_number("timeout_s", timeout_s)
        label = name if name is not None else getattr(fn, "__name__", type(fn).__name__)
        # Built before taking the lock: every microsecond under it is paid by all threads.
        record = TaskRecord(task_id, owner, label, fn, kwargs, timeout_s, time.time(), 0)
        is_async = record.is_async = is_coroutine_function(fn)
        if self._vet is not None and not is_async:
            self._vet(fn, kwargs)
        events: list[TaskSnapshot] = []
        with self._lock:
            if self._closed:
                raise ManagerClosed("the task manager was shut down and takes no new tasks")
            owned = self._tasks.get(owner)
            old = owned.get(task_id) if owned is not None else None
            queued = self._queue.count(owner) + self._async.queue.count(owner)
            if old is not None and old.status is TaskStatus.INIT:
                queued -= 1
            if queued >= self.max_queued_per_owner:
                raise QueueFull(
                    f"{queued} tasks are already queued for this owner "
                    f"(max_queued_per_owner={self.max_queued_per_owner}); "
                    "wait for some to start or cancel them"
                )
            waiting = len(self._queue) + len(self._async.queue)
            waiting -= old is not None and old.status is TaskStatus.INIT
            if self.max_queued is not None and waiting >= self.max_queued:
                raise QueueFull(
                    f"the server already has {waiting} tasks waiting "
                    f"(max_queued={self.max_queued}); try again in a while"
                )
            if old is not None:
                self._replace_locked(old)
            record.version = self._next_version()
            if owned is None:
                owned = self._tasks[owner] = {}
            owned[task_id] = record
            if is_async:
                self._async.queue.push(record)
                self._note_locked(record, events)
                self._dispatch_async_locked(events)
            else:
                self._queue.push(record)
                self._note_locked(record, events)
                self._dispatch_locked(events)
            snapshot = self._snapshot_locked(record)
        self._emit(events)
        return snapshot

    def get_result(self, task_id: Hashable, *, owner: Owner = None) -> TaskSnapshot:
        """The task's latest snapshot; ``UnknownTask`` if this owner has no such task."""
        with self._lock:
            return self._snapshot_locked(self._visible_locked(task_id, owner))

    def list_tasks(self, owner: Owner = None) -> list[TaskSnapshot]:
        """That owner's tasks, oldest submission first.

        Read without the lock, from the snapshot published on each record (by its
        latest report, or by the latest locked read), so a page polling its running
        tasks does not wait behind the workers or the other pages. The lock is taken
        once after a task started, ended or was cancelled, while one is queued (its
        place in line moves without a change of its own), and for a result past its
        time to live.
        """
        owned = self._tasks.get(owner)
        if not owned:
            return []
        snapshots: list[TaskSnapshot] = [record.published for record in owned.copy().values()]
        expired_before = time.time() - self.result_ttl_s
        for snapshot in snapshots:
            # None: changed since published, queued, or being submitted right now.
            if snapshot is None or (
                snapshot.finished_at is not None and snapshot.finished_at < expired_before
            ):
                return self._list_tasks_locked(owner)
        return snapshots

    def _list_tasks_locked(self, owner: Owner) -> list[TaskSnapshot]:
        with self._lock:
            self._finished.expire()
            owned = self._tasks.get(owner)
            if not owned:
                return []
            snapshots = []
            for record in owned.values():
                snapshot = self._snapshot_locked(record)
                if record.status is not _Status.INIT:  # a queued task's place moves
                    record.published = snapshot
                snapshots.append(snapshot)
            return snapshots

    def list_all_tasks(self) -> list[TaskSnapshot]:
        """Every owner's tasks (for an operator; never show it to a session)."""
        with self._lock:
            self._finished.expire()
            return [
                self._snapshot_locked(record)
                for owned in self._tasks.values()
                for record in owned.values()
            ]

    def join(
        self, task_id: Hashable, *, owner: Owner = None, timeout: float | None = None
    ) -> TaskSnapshot:
        """Wait until the task is final; ``TimeoutError`` after ``timeout`` seconds."""
        timeout = _wait_seconds("join timeout", timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            record = self._visible_locked(task_id, owner)
            while not record.status.is_final:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(
                        f"task {task_id!r} is still {record.status.name} after {timeout} s"
                    )
                self._wait_for_change_locked(remaining)
            return self._snapshot_locked(record)

    # -- cancelling -------------------------------------------------------------------

    def cancel(self, task_id: Hashable, *, owner: Owner = None) -> bool:
        """Request cancel; True if the task is now cancelled or cancelling."""
        events: list[TaskSnapshot] = []
        _require_hashable("task_id", task_id)
        with self._lock:
            try:
                record = self._visible_locked(task_id, owner)
            except UnknownTask:
                return False
            if record.status.is_final:
                return False
            self._cancel_locked(record, events)
        self._emit(events)
        return True

    def cancel_owner(self, owner: Owner) -> int:
        """Cancel every unfinished task of ``owner``; returns how many were affected."""
        events: list[TaskSnapshot] = []
        with self._lock:
            count = self._cancel_many_locked(self._tasks.get(owner, {}).values(), events)
        self._emit(events)
        return count

    def cancel_all(self) -> int:
        """Cancel every unfinished task of every owner."""
        events: list[TaskSnapshot] = []
        with self._lock:
            count = self._cancel_many_locked(self._all_records_locked(), events)
        self._emit(events)
        return count

    # -- observing --------------------------------------------------------------------

    def stats(self) -> ManagerStats:
        loop = self._async_runner.health()
        lane = self._async
        with self._lock:
            self._finished.expire()
            queued = self._queue.counts()
            queued_async = lane.queue.counts()
            owners = set(queued) | set(self._running_per_owner)
            owners |= set(queued_async) | set(lane.running_per_owner)
            return ManagerStats(
                max_workers=self.max_workers,
                running=len(self._running),
                queued=len(self._queue),
                cancelling=sum(1 for r in self._running if r.status is TaskStatus.CANCELLING)
                + lane.cancelling(),
                retained=len(self._finished),
                per_owner={
                    owner: OwnerStats(
                        self._running_per_owner.get(owner, 0),
                        queued.get(owner, 0),
                        lane.running_per_owner.get(owner, 0),
                        queued_async.get(owner, 0),
                    )
                    for owner in owners
                },
                max_async=self.max_async,
                async_running=len(lane.running),
                async_queued=len(lane.queue),
                loop=loop,
            )

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(snapshot)`` on every change, outside the lock; returns a remover."""
        if not callable(listener):
            raise TypeError(f"listener must be callable, got {type(listener).__name__}")
        with self._lock:
            self._listeners = (*self._listeners, listener)

        def remove() -> None:
            with self._lock:
                self._listeners = tuple(fn for fn in self._listeners if fn is not listener)

        return remove

    # -- shutting down ----------------------------------------------------------------

    def shutdown(self, wait: bool = True, cancel: bool = True) -> None:
        """Take no new tasks; with ``cancel``, cancel the rest; with ``wait``, wait for them."""
        events: list[TaskSnapshot] = []
        with self._lock:
            self._closed = True
            if cancel:
                self._cancel_many_locked(self._all_records_locked(), events)
            self._release_idle_locked()
        self._emit(events)
        if not wait:
            with self._lock:
                self._release_runner_if_drained_locked()
            return
        with self._lock:
            while self._running or self._queue or self._async:
                self._wait_for_change_locked(None)
            self._runner_released = True
        self._runner.shutdown(wait=True)
        self._async_runner.shutdown(wait=True)
        self._deadlines.close()

    def join_all(self) -> None:
        """streamlit-octostar-utils' meaning: let queued tasks finish, then shut down."""
        self.shutdown(wait=True, cancel=False)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> AsyncTaskManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(wait=True, cancel=True)

    # -- running (worker threads) -----------------------------------------------------

    def _work(self, handed: list[TaskRecord]) -> None:
        """A worker: run tasks in fair order until none comes within LINGER_S.

        The first task arrives in a list that is emptied at once, and the finished
        task is unbound before the wait for the next, so a worker (lingering or busy)
        keeps no finished task's result alive.
        """
        record: TaskRecord | None = handed.pop()
        worker = _Worker()
        while record is not None:
            self._lock.hand_in((record, self._call(record), worker))
            del record
            record = self._next_task(worker)

    def _next_task(self, worker: _Worker) -> TaskRecord | None:
        """Once this worker's task is settled, tell the listeners; then its next task."""
        worker.settled.acquire()  # by this thread, or by the lock's holder as it releases
        upcoming, worker.upcoming = worker.upcoming, None
        self._emit(worker.take_events())
        return upcoming if upcoming is not None else self._linger(worker)

    def _settle_handed_in(self, handed_in: list[_HandedIn]) -> None:
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

    def _linger(self, worker: _Worker) -> TaskRecord | None:
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

    def _release_runner_if_drained_locked(self) -> None:
        """After shutdown(wait=False): free the runner once the last task is done."""
        if self._runner_released or self._running or self._queue or self._async:
            return
        self._runner_released = True
        self._deadlines.close()
        for runner in (self._runner, self._async_runner):
            try:  # this may run while settling someone else's task: never let it raise there
                runner.shutdown(wait=False)
            except Exception:
                logger.exception("releasing the runner after shutdown failed")

    def _release_idle_locked(self) -> None:
        for worker in self._idle:
            worker.task = None
            worker.wake.release()
        self._idle.clear()

    def _call(self, record: TaskRecord) -> _Outcome:
        fn, kwargs = record.fn, record.kwargs
        if record.cancel_requested or fn is None or kwargs is None:
            return _CANCELLED
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
            return _CANCELLED
        except BaseException as exc:
            return None, exc, _failure_text(record, exc), False

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

    async def _call_async(self, record: TaskRecord) -> _Outcome:
        """``_call`` for a coroutine: a cancel interrupts it at its next await (the job
        need not poll), and ``timeout_s`` is a timer on its loop that does the same."""
        fn, kwargs = record.fn, record.kwargs
        if record.cancel_requested or fn is None or kwargs is None:
            return _CANCELLED
        timer = None
        if record.timeout_s is not None:
            loop = asyncio.get_running_loop()
            timer = loop.call_later(record.timeout_s, self._on_timeout, record)
        try:
            result = await self._async_runner.call(fn, TaskContext(self, record), kwargs)
            return result, None, None, False
        except (TaskCancelled, asyncio.CancelledError):
            return _CANCELLED
        except BaseException as exc:
            return None, exc, _failure_text(record, exc), False
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

    def _on_timeout(self, record: TaskRecord) -> None:
        events: list[TaskSnapshot] = []
        with self._lock:
            if record.status is not TaskStatus.IN_PROGRESS:
                return
            record.timed_out = True
            record.message = f"timed out after {record.timeout_s:g} s"
            self._cancel_locked(record, events)
        self._emit(events)

    # -- state changes (all under the lock) -------------------------------------------

    def _wait_for_change_locked(self, timeout: float | None) -> bool:
        """Wait until a task becomes final; finishing tasks notify only while someone waits.

        The wait lets the lock go through ``CombiningLock.release``, which settles what
        workers handed in meanwhile (and so notifies this very waiter if one ended).
        False when the timeout passed without a change.
        """
        self._joiners += 1
        try:
            return self._changed.wait(timeout)
        finally:
            self._joiners -= 1

    def _next_version(self) -> int:
        self._version += 1
        return self._version

    def _under_cap(self, owner: Owner) -> bool:
        """May ``owner`` take a free worker now? Its cap, else the reserve, decides."""
        running = self._running_per_owner.get(owner, 0)
        cap = self.max_running_per_owner
        if cap is not None:
            return running < cap
        return running == 0 or self.max_workers - len(self._running) > self.reserve

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
                self._release_worker_locked(record)
                record.error = RuntimeError(f"could not start a worker for this task: {exc}")
                record.message = "could not start: the server is out of workers"
                self._make_final_locked(record, TaskStatus.ERROR, events)
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
                self._release_worker_locked(record)
                record.error = RuntimeError(f"could not start this task on the event loop: {exc}")
                record.message = "could not start: the event loop is not available"
                self._make_final_locked(record, TaskStatus.ERROR, events)
                return

    def _start_locked(self, record: TaskRecord, events: list[TaskSnapshot]) -> None:
        record.move_to(TaskStatus.IN_PROGRESS, self._next_version())
        record.started_at = time.time()
        self._running.add(record)
        self._running_per_owner[record.owner] = self._running_per_owner.get(record.owner, 0) + 1
        if record.timeout_s is not None:
            record.deadline = self._deadlines.schedule(
                record.timeout_s, partial(self._on_timeout, record)
            )
        self._note_locked(record, events)

    def _finish_locked(
        self, record: TaskRecord, outcome: _Outcome, events: list[TaskSnapshot]
    ) -> None:
        result, error, trace, raised_cancel = outcome
        if record.cancel_requested or raised_cancel:
            status = TaskStatus.CANCELLED
        elif error is not None:
            status = TaskStatus.ERROR
        else:
            status = TaskStatus.SUCCESS
        record.result, record.error, record.traceback = result, error, trace
        self._release_worker_locked(record)
        self._make_final_locked(record, status, events)

    def _release_worker_locked(self, record: TaskRecord) -> None:
        """The task no longer holds a worker: forget its deadline and its running slot."""
        if record.deadline is not None:
            self._deadlines.cancel(record.deadline)
            record.deadline = None
        if record.is_async:
            self._async.release(record)
            return
        self._running.discard(record)
        left = self._running_per_owner[record.owner] - 1
        if left:
            self._running_per_owner[record.owner] = left
        else:
            del self._running_per_owner[record.owner]

    def _make_final_locked(
        self, record: TaskRecord, status: _Status, events: list[TaskSnapshot]
    ) -> None:
        record.move_to(status, self._next_version())
        record.finished_at = time.time()
        record.fn = record.kwargs = record.on_cancel = None
        if record.visible:
            self._finished[(record.owner, record.task_id)] = record
        if self._joiners:
            self._changed.notify_all()
        if self._closed:
            self._release_runner_if_drained_locked()
        self._note_locked(record, events)

    def _cancel_locked(self, record: TaskRecord, events: list[TaskSnapshot]) -> None:
        """Queued: CANCELLED at once. Running: CANCELLING until its function returns."""
        record.request_cancel()
        if record.status is TaskStatus.INIT:
            (self._async.queue if record.is_async else self._queue).remove(record)
            self._make_final_locked(record, TaskStatus.CANCELLED, events)
        elif record.status is TaskStatus.IN_PROGRESS:
            record.move_to(TaskStatus.CANCELLING, self._next_version())
            if record.is_async:
                self._async.interrupt(record)
            self._note_locked(record, events)

    def _cancel_many_locked(self, records: Any, events: list[TaskSnapshot]) -> int:
        pending = [record for record in records if not record.status.is_final]
        for record in pending:
            self._cancel_locked(record, events)
        return len(pending)

    def _replace_locked(self, old: TaskRecord) -> None:
        """Make room for a resubmitted id: the old task stops being visible."""
        key = (old.owner, old.task_id)
        del self._tasks[old.owner][old.task_id]
        old.visible = False
        self._finished.pop(key, None)
        if not old.status.is_final:
            self._cancel_locked(old, [])

    def _visible_locked(self, task_id: Hashable, owner: Owner) -> TaskRecord:
        _require_hashable("task_id", task_id)
        _require_hashable("owner", owner)
        self._finished.expire()
        owned = self._tasks.get(owner)
        record = owned.get(task_id) if owned is not None else None
        if record is None:
            # The same words whether the id never existed or belongs to another owner.
            raise UnknownTask(f"unknown task id {task_id!r}")
        return record

    def _all_records_locked(self) -> list[TaskRecord]:
        return [record for owned in self._tasks.values() for record in owned.values()]

    def _forget_locked(self, key: _Key, record: TaskRecord) -> None:
        """An expired or evicted result leaves the owner's index (called by the cache)."""
        owner, task_id = key
        owned = self._tasks.get(owner)
        if owned is None or owned.get(task_id) is not record:
            return
        del owned[task_id]
        record.visible = False
        if not owned:
            del self._tasks[owner]
            self._queue.forget(owner)
            self._async.queue.forget(owner)

    def _note_locked(
        self, record: TaskRecord, events: list[TaskSnapshot], publish: bool = False
    ) -> None:
        """Every change of a record ends here: queue its snapshot for the listeners, and
        publish it for lock-free readers (``publish``: a report, the frequent change) or
        withdraw the published one (a locked read publishes again: see ``list_tasks``).

        These snapshots carry no ``queue_position``: it moves without events, and reading
        it costs a pass over the owners for every queued task, under the lock, paid by
        every submit while a listener is attached (see docs/taskmgr.md, "Listeners")."""
        record.published = None
        listened = self._listeners and record.visible
        if listened or publish:
            snapshot = self._snapshot_locked(record, with_position=False)
            if publish:
                record.published = snapshot
            if listened:
                events.append(snapshot)

    def _snapshot_locked(self, record: TaskRecord, with_position: bool = True) -> TaskSnapshot:
        status = record.status
        position = (
            (self._async.queue if record.is_async else self._queue).position(record)
            if with_position and status is TaskStatus.INIT
            else None
        )
        snapshot: TaskSnapshot = _new_snapshot(
            TaskSnapshot,
            (
                record.task_id,
                record.owner,
                record.name,
                status,
                record.progress,
                record.message,
                record.data,
                record.result,
                record.error,
                record.traceback,
                record.submitted_at,
                record.started_at,
                record.finished_at,
                position,
                record.version,
            ),
        )
        return snapshot

    def _emit(self, events: list[TaskSnapshot]) -> None:
        listeners = self._listeners
        for snapshot in events:
            for listener in listeners:
                try:
                    listener(snapshot)
                except BaseException:  # Streamlit's StopException is one: keep the worker
                    logger.exception("task listener %r failed; it stays registered", listener)


def default_reserve(max_workers: int) -> int:
    """Workers an uncapped pool keeps for owners with nothing running: a quarter, and at
    least one when there are two or more, so a newcomer's task starts at once however long
    another owner's queue is."""
    return 0 if max_workers < 2 else max(1, max_workers // 4)


def _label(record: TaskRecord, limit: int = 200) -> str:
    """How the event loop's watchdog names a task: its name and id, kept short."""
    text = f"{record.name} ({record.task_id!r})"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _failure_text(record: TaskRecord, exc: BaseException) -> str:
    """Log a task's failure in one line; return its traceback as text, frames released."""
    try:
        trace = traceback.format_exc()
    except BaseException:
        trace = f"{type(exc).__name__} (its traceback could not be formatted)"
    logger.warning("task %r of owner %r failed: %s", record.task_id, record.owner, _brief(exc))
    _drop_frames(exc)
    return trace


def _brief(exc: BaseException, limit: int = 300) -> str:
    """One short line for the log: an error can carry a whole input in its message."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:
        return f"{type(exc).__name__} (its message could not be formatted)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _drop_frames(exc: BaseException) -> None:
    """Keep the exceptions, not their frames: those can hold a task's large locals alive."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)


def _wait_seconds(what: str, seconds: float | None) -> float | None:
    """A wait's length in seconds: None (and infinity) means no limit; NaN is refused."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None, got {seconds!r}")
    if math.isnan(seconds):
        raise ValueError(f"{what} must be a number of seconds or None, got NaN")
    return None if math.isinf(seconds) and seconds > 0 else float(seconds)


def _require_positive_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def _require_positive_number(name: str, value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def _require_hashable(name: str, value: object) -> None:
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"{name} must be hashable, got {type(value).__name__}") from None
