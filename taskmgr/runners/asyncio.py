"""The coroutine runner: one event loop, on a thread of its own, for every ``async def`` task.

A coroutine that awaits I/O holds no thread, so a hundred such tasks cost this one
thread (and its watchdog's). Both start with the first coroutine. Each task's
work runs as an asyncio task in a fresh context; the tasks it spawns (``gather``,
``create_task``) are tracked, and those still pending when it ends are cancelled, so
a failed ``gather`` leaves nothing running. At shutdown whatever is left unwinds
before the loop closes, so no task is destroyed while pending (one that ignores its
cancel for ``UNWIND_S`` is given up, with a warning, so that the shutdown ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine, Generator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from taskmgr.runners.loop_watchdog import LoopWatchdog
from taskmgr.runners.protocol import CancelWork, CoroutineWork
from taskmgr.snapshot import LoopHealth

if TYPE_CHECKING:
    from taskmgr.context import TaskContext

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: How long a shutdown waits for tasks left on the loop (spawned by jobs that have ended)
#: to unwind once cancelled.
UNWIND_S = 5.0


class _Run:
    """One work item on the loop: its asyncio task and the tasks it spawned."""

    __slots__ = ("cancel_pending", "children", "label", "started", "task", "work")

    def __init__(self, work: CoroutineWork, label: Callable[[], str]) -> None:
        self.work = work
        self.label = label
        self.task: asyncio.Task[None] | None = None
        self.children: set[asyncio.Task[Any]] = set()
        self.started = False
        self.cancel_pending = False

    def cancel(self) -> None:
        """On the loop thread. A task cancelled before its first step never runs its
        body (and so would never report): until then, the cancel waits here."""
        if self.started and self.task is not None:
            self.task.cancel()
        else:
            self.cancel_pending = True


#: The work whose context the current code runs in (set in each work's own context).
_current_run: contextvars.ContextVar[_Run] = contextvars.ContextVar("taskmgr_current_run")


class AsyncioRunner:
    """Runs coroutine work on one event loop thread, up to ``max_async`` at once."""

    def __init__(
        self, max_async: int, *, name: str = "taskmgr-loop", unwind_s: float = UNWIND_S
    ) -> None:
        self.max_async = max_async
        self._name = name
        self._unwind_s = unwind_s
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._loop_thread_id: int | None = None
        self._closed = False
        self._runs: set[_Run] = set()  # touched on the loop thread only
        self._watchdog = LoopWatchdog(self._describe)

    def start(self, work: CoroutineWork, label: Callable[[], str]) -> CancelWork:
        run = _Run(work, label)
        loop = self._loop
        if loop is None or self._closed:  # the lock only for the first start (or a refusal)
            loop = self._started_loop()
        if threading.get_ident() == self._loop_thread_id:
            self._spawn(run)
        else:
            loop.call_soon_threadsafe(self._spawn, run)
        return partial(self._cancel, loop, run)

    async def call(
        self, fn: Callable[..., Awaitable[Any]], ctx: TaskContext, kwargs: Mapping[str, Any]
    ) -> Any:
        return await fn(ctx, **kwargs)

    def shutdown(self, wait: bool) -> None:
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        self._watchdog.close()
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):  # already closed by an earlier shutdown
            loop.call_soon_threadsafe(loop.stop)
        if wait and thread is not threading.current_thread():
            thread.join()
            self._watchdog.join()

    def health(self) -> LoopHealth:
        return self._watchdog.health()

    @property
    def threads(self) -> list[threading.Thread]:
        """The loop's thread and its watchdog's, once started (they end at shutdown)."""
        return [t for t in (self._thread, self._watchdog.thread) if t is not None]

    def _started_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._closed:
                raise RuntimeError("the event loop of the async tasks was shut down")
            if self._loop is None:
                loop = asyncio.new_event_loop()
                loop.set_task_factory(_track_spawned)
                thread = threading.Thread(
                    target=self._serve, args=(loop,), name=self._name, daemon=True
                )
                thread.start()
                self._loop, self._thread, self._loop_thread_id = loop, thread, thread.ident
                self._watchdog.watch(loop, f"{self._name}-watchdog")
            return self._loop

    def _cancel(self, loop: asyncio.AbstractEventLoop, run: _Run) -> None:
        if threading.get_ident() == self._loop_thread_id:
            run.cancel()
            return
        with contextlib.suppress(RuntimeError):  # a closed loop: the work has ended
            loop.call_soon_threadsafe(run.cancel)

    def _spawn(self, run: _Run) -> None:
        """On the loop thread: start ``run`` in a context of its own (no job sees another's
        context variables), made directly so that it is nobody's child."""
        assert self._loop is not None
        context = contextvars.Context()
        context.run(_current_run.set, run)
        run.task = asyncio.Task(self._execute(run), loop=self._loop, context=context)
        if not self._runs:
            self._watchdog.arm(True)
        self._runs.add(run)

    async def _execute(self, run: _Run) -> None:
        run.started = True
        if run.cancel_pending and run.task is not None:
            run.task.cancel()  # lands on the work's first await
        try:
            await run.work()
        except asyncio.CancelledError:
            pass
        except BaseException:
            logger.exception("coroutine work %s failed outside its job", run.label())
        finally:
            for child in list(run.children):
                child.cancel()
            self._runs.discard(run)
            if not self._runs:
                self._watchdog.arm(False)

    def _describe(self, task: asyncio.Task[Any]) -> str | None:
        """Which work ``task`` belongs to (called by the watchdog's thread while the loop
        is stalled; the copies keep it safe should the loop move on meanwhile)."""
        for run in list(self._runs):
            if task is run.task or task in run.children:
                return run.label()
        return None

    def _serve(self, loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
            _unwind(loop, self._unwind_s)
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _track_spawned(
    loop: asyncio.AbstractEventLoop,
    coro: Generator[Any, None, T] | Coroutine[Any, Any, T],
    /,
    **kwargs: Any,
) -> asyncio.Task[T]:
    """The loop's task factory: a task made inside a work's context is that work's child."""
    task = asyncio.Task(coro, loop=loop, **kwargs)
    run = _current_run.get(None)
    if run is not None:
        run.children.add(task)
        task.add_done_callback(run.children.discard)
    return task


def _unwind(loop: asyncio.AbstractEventLoop, unwind_s: float) -> None:
    """After the loop stopped: cancel what is left and let it finish, as ``asyncio.run`` does,
    but give up on tasks that ignore the cancel for ``unwind_s`` (a shutdown must end)."""
    left = asyncio.all_tasks(loop)
    for task in left:
        task.cancel()
    if left:
        _, stubborn = loop.run_until_complete(asyncio.wait(left, timeout=unwind_s))
        if stubborn:
            for task in stubborn:  # reported here, by name: not again when collected
                task._log_destroy_pending = False  # type: ignore[attr-defined]
            logger.warning(
                "%d task(s) ignored their cancel for %g s at shutdown and were abandoned: %s",
                len(stubborn),
                unwind_s,
                ", ".join(sorted(task.get_name() for task in stubborn)[:10]),
            )
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
