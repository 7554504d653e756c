"""The runners package: the old import path, and the coroutine runner's own promises."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from taskmgr import AsyncTaskManager
from taskmgr.runners import AsyncioRunner

from .conftest import WAIT_S


def test_the_old_runner_module_still_imports() -> None:
    from taskmgr import runner, runners

    assert runner.ThreadPoolRunner is runners.ThreadPoolRunner
    assert runner.TaskRunner is runners.TaskRunner


def test_work_cancelled_before_its_first_step_still_runs_to_its_end() -> None:
    """The manager learns a task's outcome only from its work: that work must run."""
    runner = AsyncioRunner(10)
    ended = threading.Semaphore(0)
    outcomes: list[str] = []

    async def work() -> None:
        try:
            await asyncio.sleep(3600)
            outcomes.append("slept")
        except asyncio.CancelledError:
            outcomes.append("cancelled")
        ended.release()

    try:
        for _ in range(50):
            runner.start(work, lambda: "w")()  # cancel at once, before the loop saw it
        for _ in range(50):
            assert ended.acquire(timeout=WAIT_S)
    finally:
        runner.shutdown(wait=True)
    assert outcomes == ["cancelled"] * 50
    assert len(runner.threads) == 2
    assert not any(thread.is_alive() for thread in runner.threads)


def test_a_shut_down_runner_refuses_work_and_shuts_down_again_quietly() -> None:
    runner = AsyncioRunner(1)
    runner.shutdown(wait=True)
    runner.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="shut down"):
        runner.start(asyncio.sleep, lambda: "late")  # type: ignore[arg-type]


def test_shutdown_gives_up_on_a_leftover_task_that_ignores_its_cancel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runner = AsyncioRunner(10, unwind_s=0.2)
    left_behind = threading.Event()

    async def deaf() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue  # ignores every cancel: only an abandon ends it

    async def work() -> None:
        asyncio.get_running_loop().create_task(deaf(), name="deaf")
        await asyncio.sleep(0)  # deaf starts waiting: the cancel at our end reaches it
        left_behind.set()

    mgr = AsyncTaskManager(max_workers=1, max_async=10, async_runner=runner)
    with caplog.at_level(logging.WARNING, logger="taskmgr.runners.asyncio"):
        runner.start(work, lambda: "w")
        assert left_behind.wait(WAIT_S)
        mgr.shutdown(wait=True)
    assert not any(thread.is_alive() for thread in runner.threads)
    assert "1 task(s) ignored their cancel for 0.2 s at shutdown and were abandoned: deaf" in (
        caplog.text
    )


def test_a_coroutine_runner_with_fewer_slots_than_max_async_is_refused() -> None:
    with pytest.raises(ValueError, match="max_async=8"):
        AsyncTaskManager(max_async=8, async_runner=AsyncioRunner(4))
