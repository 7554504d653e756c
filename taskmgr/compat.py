"""streamlit-octostar-utils' AsyncTaskManager, built on ours: switch by changing one import.

``from taskmgr.compat import AsyncTaskManager`` gives octostar 0.9.16's names,
signatures, plain ``dict`` results and status handling; underneath runs one of our
managers (one owner, so ids are global to a handler and tasks run in FIFO order;
no per-owner reserve). Where octostar is broken (a cancelled queued task that never
ends, a resubmit that blocks the script, results kept for ever, non-daemon threads,
late writes over a final status) this does the right thing: docs/compat.md lists
every difference.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from taskmgr.context import TaskContext
from taskmgr.errors import ManagerClosed, TaskCancelled, UnknownTask
from taskmgr.manager import AsyncTaskManager as _Manager
from taskmgr.snapshot import TaskSnapshot
from taskmgr.status import TaskStatus

logger = logging.getLogger(__name__)

#: Queued tasks one handler takes (octostar has no limit; a bound keeps memory finite).
MAX_QUEUED = 100_000

#: ``output_fn(task_id, status, data)``, what TaskData reports through.
OutputFn = Callable[[Hashable, Any, Any], None]


class CancelledError(TaskCancelled, Exception):
    """Raised by ``TaskData.output`` once cancel was requested.

    An ``Exception``, as in octostar, so ``except Exception`` around ``output()``
    swallows it there too; also a ``TaskCancelled``, so our manager ends the task
    CANCELLED when it escapes.
    """


class TaskData:
    """What octostar passes as a task's first argument: ``task_id``, ``cancel_event``, ``output``.

    Constructible, as in octostar, so a task function can be called without a manager.
    """

    def __init__(self, output_fn: OutputFn, task_id: Hashable, cancel_event: threading.Event):
        self.task_id = task_id
        self.cancel_event = cancel_event
        self._output_fn = output_fn

    def output(self, status: Any, data: Any) -> None:
        """Publish ``data`` as the task's partial result; raises CancelledError once cancelled."""
        if self.cancel_event.is_set():
            raise CancelledError(self.task_id)
        self._output_fn(self.task_id, status, data)


class _Partial:
    """A task's partial data as our manager keeps it: boxed, so that None is a value too."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _ReturnedAfterCancel:
    """A task function returned after its cancel: octostar ends it SUCCESS with the value."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class _Run:
    """One submission of an id (guarded by the compat manager's lock)."""

    __slots__ = ("cancelled", "context", "fn", "kwargs", "next", "returned", "task_id")

    def __init__(self, task_id: Hashable, fn: Callable[..., Any], kwargs: dict[str, Any]):
        self.task_id = task_id
        self.fn = fn
        self.kwargs = kwargs
        #: Set once its function started; None before and after.
        self.context: TaskContext | None = None
        self.returned = False
        self.cancelled = False
        #: A resubmission of the id, started once this run's function returned.
        self.next: _Run | None = None


def as_result(snapshot: TaskSnapshot) -> dict[str, Any]:
    """A snapshot as octostar's result ``dict``: ``id``, ``status``, ``data``."""
    status, result, error = snapshot.status, snapshot.result, snapshot.error
    data: Any
    if status is TaskStatus.CANCELLED and error is not None:
        status, data = TaskStatus.ERROR, error  # it failed after its cancel: octostar's ERROR
    elif status is TaskStatus.CANCELLED and isinstance(result, _ReturnedAfterCancel):
        status, data = TaskStatus.SUCCESS, result.value
    elif status is TaskStatus.SUCCESS:
        data = result
    elif status is TaskStatus.ERROR:
        data = error
    else:
        partial = snapshot.data
        data = partial.value if isinstance(partial, _Partial) else partial
    return {"id": snapshot.id, "status": status, "data": data}


class AsyncTaskManager:
    """octostar's AsyncTaskManager: ``submit``, ``get_result``, ``cancel``, ``join``, ...

    ``max_workers`` defaults to the class attribute (10), as ``get_handler`` does.
    Finished results are kept for ``result_ttl_s`` seconds (at most ``max_results``).
    """

    max_workers: int = 10
    TaskStatus = TaskStatus
    CancelledError = CancelledError
    TaskData = TaskData

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        result_ttl_s: float = 3600.0,
        max_results: int = 10_000,
    ) -> None:
        workers = AsyncTaskManager.max_workers if max_workers is None else max_workers
        self._manager = _Manager(
            workers,
            max_queued_per_owner=MAX_QUEUED,
            max_running_per_owner=workers,
            result_ttl_s=result_ttl_s,
            max_results=max_results,
        )
        self.max_workers = workers
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        #: The latest submission of each id whose function has not returned yet.
        self._live: dict[Hashable, _Run] = {}
        #: Resubmissions waiting for the id's running function to return.
        self._deferred: dict[Hashable, _Run] = {}
        self._closing = False
        self.results_queue = ResultsView(self)

    @staticmethod
    def get_handler(task_type: str = "default") -> AsyncTaskManager:
        """One manager per ``task_type`` for the server (``st.cache_resource``).

        A handler that ``join_all`` stopped is replaced by a new one.
        """
        return _cached_handler()(task_type)

    # -- octostar's methods -------------------------------------------------------------

    def submit(
        self, task_id: Hashable, task: Callable[..., Any], kwargs: Mapping[str, Any] | None = None
    ) -> bool:
        """Queue ``task(task_data, **kwargs)``; returns True and never blocks.

        If ``task_id`` is running, it is cancelled and this one starts once the
        old function returned (octostar blocks the caller until then).
        """
        if not callable(task):
            raise TypeError(f"task {task_id!r}: task must be callable, got {type(task).__name__}")
        if kwargs is not None and not isinstance(kwargs, Mapping):
            raise TypeError(
                f"task {task_id!r}: kwargs must be a mapping, got {type(kwargs).__name__}"
            )
        run = _Run(task_id, task, dict(kwargs or {}))
        with self._lock:
            if self._closing or self._manager.closed:
                raise ManagerClosed(
                    "this AsyncTaskManager was stopped by join_all() and takes no new tasks; "
                    "get_handler() gives a new one"
                )
            current = self._live.get(task_id)
            if current is not None and current.context is not None:
                self._manager.cancel(task_id)
                earlier = current.next
                if earlier is not None:
                    logger.info("task %r: resubmitted again before it started", task_id)
                current.next = run
                self._deferred[task_id] = run
            else:
                self._start_locked(run)
            self._changed.notify_all()
        return True

    def get_result(self, task_id: Hashable) -> dict[str, Any]:
        """``{"id", "status", "data"}``; KeyError for an id never submitted or expired."""
        with self._lock:
            return self._result_locked(task_id)

    def cancel(self, task_id: Hashable) -> bool:
        """True if this call cancelled the task: a second cancel, or a final id, is False.

        A queued task is CANCELLED at once; a running one CANCELLING until it returns.
        """
        with self._lock:
            deferred = self._deferred.get(task_id)
            if deferred is not None:
                if deferred.cancelled:
                    return False
                deferred.cancelled = True
                return True
            try:
                status = self._manager.get_result(task_id).status
            except UnknownTask:
                return False
            if status is not TaskStatus.INIT and status is not TaskStatus.IN_PROGRESS:
                return False
            run = self._live.get(task_id)
            if run is not None:
                run.cancelled = True
            cancelled = self._manager.cancel(task_id)
            if run is not None and self._manager.get_result(task_id).is_final:
                del self._live[task_id]  # it was queued: it will never start, nor return
            return cancelled

    def cancel_all(self) -> None:
        """Cancel every queued and running task of this handler."""
        with self._lock:
            ids = [*self._deferred, *(s.id for s in self._manager.list_tasks() if not s.is_final)]
        for task_id in dict.fromkeys(ids):
            self.cancel(task_id)

    def join(self, task_id: Hashable, timeout: float | None = None) -> None:
        """Wait until the task is final; at once for an unknown id.

        ``timeout`` (ours) raises TimeoutError after that many seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                while task_id in self._deferred:
                    if not self._changed.wait(_remaining(deadline)):
                        raise TimeoutError(f"task {task_id!r} is still waiting to start")
                try:
                    if self._manager.get_result(task_id).is_final:
                        return
                except UnknownTask:
                    return
            try:
                self._manager.join(task_id, timeout=_remaining(deadline))
            except UnknownTask:
                return

    def join_all(self) -> None:
        """Let every queued task finish, then stop this handler's workers."""
        with self._lock:
            self._closing = True
            while self._deferred:
                self._changed.wait()
        self._manager.join_all()

    def output(self, task_id: Hashable, status: Any, data: Any) -> None:
        """Set a running task's partial data; a final or unknown id is left alone."""
        with self._lock:
            run = self._live.get(task_id)
            context = None if run is None else run.context
        if context is None:
            logger.warning("output() for task %r, which is not running: ignored", task_id)
            return
        with contextlib.suppress(TaskCancelled):  # it raises once cancelled: nothing to set
            context.report(data=_Partial(data))

    # -- on our manager -----------------------------------------------------------------

    def _result_locked(self, task_id: Hashable) -> dict[str, Any]:
        deferred = self._deferred.get(task_id)
        if deferred is not None:
            status = TaskStatus.CANCELLED if deferred.cancelled else TaskStatus.INIT
            return {"id": task_id, "status": status, "data": None}
        return as_result(self._manager.get_result(task_id))

    def _start_locked(self, run: _Run) -> None:
        name = getattr(run.fn, "__name__", type(run.fn).__name__)
        self._manager.submit(run.task_id, functools.partial(self._call, run), name=name)
        self._live[run.task_id] = run

    def _call(self, run: _Run, ctx: TaskContext) -> Any:
        """The function our manager runs: octostar's task, called with a TaskData."""
        with self._lock:
            if self._live.get(run.task_id) is not run:
                raise TaskCancelled(run.task_id)  # replaced before it started
            if run.cancelled:
                del self._live[run.task_id]
                raise TaskCancelled(run.task_id)  # cancelled as it was being started
            run.context = ctx
        task_data = TaskData(functools.partial(_publish, ctx), run.task_id, ctx.cancel_event)
        try:
            value = run.fn(task_data, **run.kwargs)
        finally:
            self._returned(run)
        return _ReturnedAfterCancel(value) if ctx.cancelled else value

    def _returned(self, run: _Run) -> None:
        """The run's function is over: start the resubmission that waited for it."""
        with self._lock:
            run.returned = True
            run.context = None
            if self._live.get(run.task_id) is run:
                del self._live[run.task_id]
            upcoming, run.next = run.next, None
            if upcoming is not None:
                del self._deferred[run.task_id]
                try:
                    self._start_locked(upcoming)
                    if upcoming.cancelled:
                        self._manager.cancel(run.task_id)
                except Exception:
                    logger.exception("task %r: its resubmission could not be queued", run.task_id)
            self._changed.notify_all()


def _publish(ctx: TaskContext, task_id: Hashable, status: Any, data: Any) -> None:
    """TaskData's output for a task our manager runs; ``status`` is the manager's to say."""
    try:
        ctx.report(data=_Partial(data))
    except TaskCancelled:
        raise CancelledError(task_id) from None


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class ResultsView:
    """octostar's ``results_queue`` (a KeyQueue of result dicts), read-only."""

    def __init__(self, manager: AsyncTaskManager) -> None:
        self._manager = manager

    def get_nowait(self, key: Hashable, remove: bool = False) -> dict[str, Any]:
        _refuse_remove(remove)
        return self._manager.get_result(key)

    def get(
        self, key: Hashable, remove: bool = False, timeout: float | None = None
    ) -> dict[str, Any]:
        """The result of ``key``, waiting up to ``timeout`` seconds for it to be submitted."""
        _refuse_remove(remove)
        manager = self._manager
        deadline = None if timeout is None else time.monotonic() + timeout
        with manager._changed:
            while True:
                try:
                    return manager._result_locked(key)
                except KeyError:
                    remaining = _remaining(deadline)
                    if remaining == 0.0:
                        raise TimeoutError(f"Timeout while waiting for key '{key}'.") from None
                    manager._changed.wait(remaining)

    def list_keys(self) -> list[Hashable]:
        return list(self.as_dict())

    def is_empty(self) -> bool:
        return not self.as_dict()

    def as_dict(self) -> dict[Hashable, dict[str, Any]]:
        manager = self._manager
        with manager._lock:
            results = {s.id: as_result(s) for s in manager._manager.list_tasks()}
            for task_id in manager._deferred:
                results[task_id] = manager._result_locked(task_id)
        return results

    def __str__(self) -> str:
        return str(self.as_dict())


def _refuse_remove(remove: bool) -> None:
    if remove:
        raise TypeError(
            "results_queue is read-only here: results expire on their own; "
            "cancel() stops a task, submit() replaces it"
        )


@functools.cache
def _cached_handler() -> Callable[[str], AsyncTaskManager]:
    """``get_handler``'s cache, made on first use (so importing this needs no Streamlit)."""
    import streamlit as st

    def release(handler: AsyncTaskManager) -> None:
        handler._manager.shutdown(wait=False, cancel=True)

    @st.cache_resource(
        show_spinner=False,
        on_release=release,
        validate=lambda handler: not handler._manager.closed,
    )
    def handler(task_type: str) -> AsyncTaskManager:
        return AsyncTaskManager(AsyncTaskManager.max_workers)

    return handler
