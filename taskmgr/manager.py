"""AsyncTaskManager: one bounded pool shared fairly by every session of a server.

State lives in TaskRecords guarded by one lock; callers get immutable
TaskSnapshots. This module is the public face: arguments, limits, reads, cancels,
shutdown. The class inherits the rest, which works under the same lock: the state
machine and slot accounting (transitions.py), and running tasks on worker threads
and the event loop (execution.py). Finished results expire in retention.py.
Nothing ever polls: an idle manager costs no CPU.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from taskmgr.async_lane import AsyncLane, is_coroutine_function
from taskmgr.change_feed import ChangeFeed
from taskmgr.checks import (
    require_hashable,
    require_positive_int,
    require_positive_number,
    wait_seconds,
)
from taskmgr.combining import CombiningLock
from taskmgr.deadlines import DeadlineTimer
from taskmgr.errors import ManagerClosed, QueueFull, TaskCancelled, UnknownTask
from taskmgr.execution import TaskExecution
from taskmgr.fair_queue import FairQueue
from taskmgr.handoff import HandedIn, Outcome, Worker
from taskmgr.record import TaskRecord
from taskmgr.retention import ExpiringRecords
from taskmgr.runners import AsyncioRunner, CoroutineRunner, TaskRunner
from taskmgr.runners.backend import RemoteCall, Vet, make_runner
from taskmgr.snapshot import ManagerStats, Owner, OwnerStats, TaskSnapshot
from taskmgr.status import TaskStatus
from taskmgr.transitions import Listener, default_reserve

__all__ = ["AsyncTaskManager", "Listener", "default_reserve"]

_Status = TaskStatus  # the class attribute of the same name shadows it inside the class


class AsyncTaskManager(TaskExecution):
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
        require_positive_int("max_workers", max_workers)
        require_positive_int("max_queued_per_owner", max_queued_per_owner)
        if max_running_per_owner is not None:
            require_positive_int("max_running_per_owner", max_running_per_owner)
        if max_queued is not None:
            require_positive_int("max_queued", max_queued)
        require_positive_number("result_ttl_s", result_ttl_s)
        require_positive_int("max_results", max_results)
        require_positive_int("max_async", max_async)
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

        self._lock: CombiningLock[HandedIn] = CombiningLock(self._settle_handed_in)
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
        self._async_ended: list[tuple[TaskRecord, Outcome]] = []  # the loop thread's only
        self._queue: FairQueue[TaskRecord] = FairQueue()
        self._tasks: dict[Owner, dict[Hashable, TaskRecord]] = {}
        self._finished = ExpiringRecords(max_results, result_ttl_s, self._forget_locked)
        self._running: set[TaskRecord] = set()
        self._running_per_owner: dict[Owner, int] = {}
        self._idle: list[Worker] = []
        # None when owners are neither capped nor held to a reserve: the queue then skips
        # a call per dispatch.
        limited = max_running_per_owner is not None or self.reserve > 0
        self._may_serve = self._under_cap if limited else None
        self._joiners = 0
        self._version = 0
        self._closed = False
        self._runner_released = False
        self._listeners: tuple[Listener, ...] = ()
        self._feeds: tuple[ChangeFeed, ...] = ()
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
        require_hashable("task_id", task_id)
        require_hashable("owner", owner)
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
            require_positive_number("timeout_s", timeout_s)
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
        timeout = wait_seconds("join timeout", timeout)
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
        require_hashable("task_id", task_id)
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

    def change_feed(self, wake: threading.Event | None = None) -> ChangeFeed:
        """The tasks that change from now on, coalesced: each one's latest snapshot, built
        when the reader calls ``take`` (see taskmgr/change_feed.py). Every task there is
        now counts as changed, so the reader starts from the whole picture. ``wake`` is
        set whenever a change arrives with nothing left to take; ``close()`` the feed
        when done."""

        def snapshot(record: TaskRecord) -> TaskSnapshot:
            return self._snapshot_locked(record, with_position=False)

        def remove(feed: ChangeFeed) -> None:
            with self._lock:
                self._feeds = tuple(f for f in self._feeds if f is not feed)

        feed = ChangeFeed(self._lock, snapshot, wake, remove)
        with self._lock:
            self._finished.expire()
            for owned in self._tasks.values():
                for record in owned.values():
                    feed.note_locked(record)
            self._feeds = (*self._feeds, feed)
        return feed

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

    @property
    def dashboard_link(self) -> str | None:
        """The runner's dashboard (the Dask cluster's), or None: threads have none."""
        link = getattr(self._runner, "dashboard_link", None)
        return link if isinstance(link, str) and link else None

    def __enter__(self) -> AsyncTaskManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown(wait=True, cancel=True)
