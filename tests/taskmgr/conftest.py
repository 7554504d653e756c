"""Fixtures and small task functions shared by the task manager's tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from taskmgr import AsyncTaskManager, TaskContext

WAIT_S = 30.0  # generous: CI machines are shared and noisy


@pytest.fixture
def manager() -> Iterator[AsyncTaskManager]:
    # No reserve (max_running_per_owner=max_workers): one owner may hold both workers, as
    # most tests here need; test_reserve.py covers the default.
    mgr = AsyncTaskManager(max_workers=2, max_running_per_owner=2)
    yield mgr
    mgr.shutdown(wait=True, cancel=True)


class Gate:
    """Lets a test hold tasks inside their function and release them on cue."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.count = 0
        self._lock = threading.Lock()

    def task(self, ctx: TaskContext, value: Any = None) -> Any:
        """Signal start, then wait for release; wakes at once on cancel (ctx.sleep)."""
        with self._lock:
            self.count += 1
        self.started.release()
        while not self.release.is_set():
            ctx.sleep(0.05)
        return value

    def stubborn(self, ctx: TaskContext, value: Any = None) -> Any:
        """Like ``task`` but ignores cancellation until released."""
        self.started.release()
        assert self.release.wait(WAIT_S)
        return value

    def wait_started(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.started.acquire(timeout=WAIT_S), "task did not start in time"


@pytest.fixture
def gate() -> Iterator[Gate]:
    g = Gate()
    yield g
    g.release.set()


def noop(ctx: TaskContext, value: Any = None) -> Any:
    return value


def start_shutdown(
    mgr: AsyncTaskManager, *, wait: bool = True, cancel: bool = True
) -> threading.Thread:
    """``mgr.shutdown`` on a thread of its own, for a test that acts while it waits;
    join the thread with a deadline and check ``is_alive()`` to see it returned."""
    thread = threading.Thread(
        target=mgr.shutdown, kwargs={"wait": wait, "cancel": cancel}, daemon=True
    )
    thread.start()
    return thread


class AsyncGate:
    """``Gate`` for ``async def`` tasks: they await ``wait()`` until a test thread calls
    ``release()``, and signal ``started`` as they begin waiting."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._released = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    async def wait(self) -> None:
        event = asyncio.Event()
        with self._lock:
            released = self._released
            if not released:
                self._waiters.append((asyncio.get_running_loop(), event))
        self.started.release()
        if not released:
            await event.wait()

    async def task(self, ctx: TaskContext, value: Any = None) -> Any:
        await self.wait()
        return value

    def release(self) -> None:
        with self._lock:
            self._released = True
            waiters, self._waiters = self._waiters, []
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that manager has shut down
                loop.call_soon_threadsafe(event.set)

    def wait_started(self, n: int = 1) -> None:
        for _ in range(n):
            assert self.started.acquire(timeout=WAIT_S), "task did not start in time"


@pytest.fixture
def agate() -> Iterator[AsyncGate]:
    g = AsyncGate()
    yield g
    g.release()
