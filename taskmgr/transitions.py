"""The task state machine, changed only under the manager's one lock.

Every change of a record goes through these methods: start, finish, cancel,
replace, expire; each bumps the record's version and notes its snapshot for the
listeners (emitted after the lock is released) and for lock-free readers. Also the
slot accounting that ``max_running_per_owner`` and the reserve read. The manager
inherits them; they hold no state of their own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from taskmgr.async_lane import AsyncLane
from taskmgr.change_feed import ChangeFeed
from taskmgr.checks import require_hashable
from taskmgr.combining import CombiningLock
from taskmgr.deadlines import DeadlineTimer
from taskmgr.errors import UnknownTask
from taskmgr.fair_queue import FairQueue
from taskmgr.handoff import HandedIn, Outcome
from taskmgr.record import TaskRecord
from taskmgr.retention import ExpiringRecords, Key
from taskmgr.runners import CoroutineRunner, TaskRunner
from taskmgr.snapshot import Owner, TaskSnapshot
from taskmgr.status import TaskStatus

# The manager's logger: these lines belong to it, and operators filter on its name.
logger = logging.getLogger("taskmgr.manager")

Listener = Callable[[TaskSnapshot], None]
_new_snapshot = tuple.__new__  # TaskSnapshot's generated __new__ is slower: this is hot


class TaskTransitions:
    """State changes of the manager's records, made with its lock held (``_locked``) or
    taking it; ``_emit`` runs after it is released. The attributes are the manager's."""

    max_workers: int
    max_running_per_owner: int | None
    reserve: int
    _lock: CombiningLock[HandedIn]
    _changed: threading.Condition
    _runner: TaskRunner
    _async_runner: CoroutineRunner
    _async: AsyncLane
    _queue: FairQueue[TaskRecord]
    _tasks: dict[Owner, dict[Hashable, TaskRecord]]
    _finished: ExpiringRecords
    _running: set[TaskRecord]
    _running_per_owner: dict[Owner, int]
    _joiners: int
    _version: int
    _closed: bool
    _runner_released: bool
    _listeners: tuple[Listener, ...]
    _feeds: tuple[ChangeFeed, ...]
    _deadlines: DeadlineTimer

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
        self, record: TaskRecord, outcome: Outcome, events: list[TaskSnapshot]
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
        self, record: TaskRecord, status: TaskStatus, events: list[TaskSnapshot]
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
        for feed in self._feeds:
            feed.drop_locked(old)
        self._finished.pop(key, None)
        if not old.status.is_final:
            self._cancel_locked(old, [])

    def _visible_locked(self, task_id: Hashable, owner: Owner) -> TaskRecord:
        require_hashable("task_id", task_id)
        require_hashable("owner", owner)
        self._finished.expire()
        owned = self._tasks.get(owner)
        record = owned.get(task_id) if owned is not None else None
        if record is None:
            # The same words whether the id never existed or belongs to another owner.
            raise UnknownTask(f"unknown task id {task_id!r}")
        return record

    def _all_records_locked(self) -> list[TaskRecord]:
        return [record for owned in self._tasks.values() for record in owned.values()]

    def _forget_locked(self, key: Key, record: TaskRecord) -> None:
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
        if self._feeds and record.visible:
            for feed in self._feeds:
                feed.note_locked(record)
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

    def _on_timeout(self, record: TaskRecord) -> None:
        events: list[TaskSnapshot] = []
        with self._lock:
            if record.status is not TaskStatus.IN_PROGRESS:
                return
            record.timed_out = True
            record.message = f"timed out after {record.timeout_s:g} s"
            self._cancel_locked(record, events)
        self._emit(events)


def default_reserve(max_workers: int) -> int:
    """Workers an uncapped pool keeps for owners with nothing running: a quarter, and at
    least one when there are two or more, so a newcomer's task starts at once however long
    another owner's queue is."""
    return 0 if max_workers < 2 else max(1, max_workers // 4)
