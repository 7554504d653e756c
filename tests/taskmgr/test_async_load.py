"""``async def`` tasks under load: many awaits, many tasks, mixed with plain ones, shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading

import pytest

from taskmgr import AsyncioRunner, AsyncTaskManager, QueueFull, TaskContext, TaskStatus
from tests.support.wait import wait_until

from .conftest import WAIT_S, AsyncGate, Gate, noop


def test_one_task_awaits_a_thousand_calls_at_once(manager: AsyncTaskManager) -> None:
    async def fan_out(ctx: TaskContext, calls: int) -> int:
        arrived = 0
        all_in = asyncio.Event()

        async def call(i: int) -> int:
            nonlocal arrived
            arrived += 1
            if arrived == calls:
                all_in.set()
            await all_in.wait()  # returns only once every call is waiting: truly concurrent
            return i

        results = await asyncio.gather(*(call(i) for i in range(calls)))
        ctx.report(progress=1.0, data=len(results))
        return sum(results)

    manager.submit("fan", fan_out, {"calls": 1000})
    final = manager.join("fan", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS
    assert final.result == sum(range(1000))


def test_five_hundred_coroutines_on_four_slots_all_finish_in_fair_order(
    agate: AsyncGate,
) -> None:
    owners = ["a", "b", "c", "d", "e"]
    started: list[str] = []
    running = [0, 0]  # now, most at once

    async def job(ctx: TaskContext, owner: str) -> str:
        started.append(owner)  # on the one loop thread: no lock needed
        running[0] += 1
        running[1] = max(running[1], running[0])
        await asyncio.sleep(0)
        running[0] -= 1
        return owner

    with AsyncTaskManager(max_workers=1, max_async=4, max_queued_per_owner=100) as mgr:
        for i in range(4):
            mgr.submit(i, agate.task, owner="holder")
        agate.wait_started(4)
        for owner in owners:  # the worst arrival order: each owner's whole batch at once
            for i in range(100):
                mgr.submit(i, job, {"owner": owner}, owner=owner)
        stats = mgr.stats()
        assert (stats.async_running, stats.async_queued) == (4, 500)
        assert stats.per_owner["a"].async_queued == 100
        assert mgr.get_result(0, owner="b").queue_position == 2
        agate.release()
        finals = [mgr.join(i, owner=owner, timeout=WAIT_S) for owner in owners for i in range(100)]
    assert all(snap.status is TaskStatus.SUCCESS for snap in finals)
    assert started == owners * 100  # round robin across owners, FIFO within each
    assert running[1] <= 4


def test_a_coroutine_runs_while_every_worker_thread_is_busy(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("plain", gate.task)
        gate.wait_started()
        mgr.submit("queued plain", noop, {"value": 1})

        async def fetch(ctx: TaskContext) -> str:
            await asyncio.sleep(0)
            return "fetched"

        mgr.submit("coroutine", fetch)
        assert mgr.join("coroutine", timeout=WAIT_S).result == "fetched"
        stats = mgr.stats()
        assert (stats.running, stats.queued) == (1, 1)  # the plain ones still hold and wait
        assert mgr.get_result("queued plain").status is TaskStatus.INIT
        gate.release.set()
        assert mgr.join("queued plain", timeout=WAIT_S).result == 1


def test_plain_and_async_tasks_side_by_side_all_finish(agate: AsyncGate) -> None:
    def plain(ctx: TaskContext, i: int) -> int:
        ctx.sleep(0.001)
        return i

    async def coroutine(ctx: TaskContext, i: int) -> int:
        await agate.wait()
        return -i

    with AsyncTaskManager(max_workers=2, max_async=10) as mgr:
        for i in range(30):
            mgr.submit(("async", i), coroutine, {"i": i})
            mgr.submit(("plain", i), plain, {"i": i})
        plain_results = [mgr.join(("plain", i), timeout=WAIT_S).result for i in range(30)]
        assert mgr.stats().async_running == 10  # held at the gate while the plain ones ran
        agate.release()
        async_results = [mgr.join(("async", i), timeout=WAIT_S).result for i in range(30)]
    assert plain_results == list(range(30))
    assert async_results == [-i for i in range(30)]


def test_a_hundred_awaiting_tasks_hold_no_hundred_threads(agate: AsyncGate) -> None:
    before = threading.active_count()
    with AsyncTaskManager(max_workers=2) as mgr:
        for i in range(100):
            mgr.submit(i, agate.task)
        agate.wait_started(100)
        assert mgr.stats().async_running == 100
        assert threading.active_count() - before <= 2  # the loop and its watchdog
        agate.release()
        for i in range(100):
            mgr.join(i, timeout=WAIT_S)


def test_per_owner_caps_and_queue_limits_cover_coroutines(agate: AsyncGate) -> None:
    with AsyncTaskManager(
        max_workers=2, max_async=10, max_running_per_owner=2, max_queued_per_owner=3
    ) as mgr:
        for i in range(5):
            mgr.submit(i, agate.task, owner="greedy")
        agate.wait_started(2)
        stats = mgr.stats()
        assert stats.per_owner["greedy"].async_running == 2
        assert stats.per_owner["greedy"].async_queued == 3
        with pytest.raises(QueueFull):
            mgr.submit("one more", noop, owner="greedy")  # queues count both kinds
        mgr.submit("other", agate.task, owner="newcomer")
        agate.wait_started()
        assert mgr.get_result("other", owner="newcomer").status is TaskStatus.IN_PROGRESS
        agate.release()
        for i in range(5):
            assert mgr.join(i, owner="greedy", timeout=WAIT_S).status is TaskStatus.SUCCESS


def test_shutdown_with_coroutines_running_leaves_no_pending_task_or_thread(
    caplog: pytest.LogCaptureFixture, recwarn: pytest.WarningsRecorder
) -> None:
    started = threading.Semaphore(0)

    async def background(ctx: TaskContext) -> None:
        await asyncio.Event().wait()

    async def job(ctx: TaskContext, i: int) -> None:
        if i % 2:  # a task it spawns and never awaits: the manager must clean it up
            asyncio.get_running_loop().create_task(background(ctx))
        started.release()
        await asyncio.gather(ctx.asleep(3600), background(ctx))

    runner = AsyncioRunner(20)
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        mgr = AsyncTaskManager(max_workers=1, max_async=20, async_runner=runner)
        for i in range(30):
            mgr.submit(i, job, {"i": i})
        for _ in range(20):
            assert started.acquire(timeout=WAIT_S)
        assert len(runner.threads) == 2
        mgr.shutdown(wait=True, cancel=True)
        statuses = {mgr.get_result(i).status for i in range(30)}
        gc.collect()
    assert statuses == {TaskStatus.CANCELLED}
    assert not any(thread.is_alive() for thread in runner.threads)
    assert "destroyed but it is pending" not in caplog.text
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


def test_shutdown_without_wait_ends_the_loop_after_the_last_coroutine(
    agate: AsyncGate,
) -> None:
    sleeping = threading.Event()

    async def stubborn(ctx: TaskContext) -> str:
        sleeping.set()
        try:
            await ctx.asleep(3600)
        except asyncio.CancelledError:
            await agate.wait()  # ignores the cancel until the test lets it go
        return "late"

    runner = AsyncioRunner(100)
    mgr = AsyncTaskManager(max_workers=1, async_runner=runner)
    mgr.submit("s", stubborn)
    assert sleeping.wait(WAIT_S)
    mgr.shutdown(wait=False, cancel=True)
    agate.wait_started()
    assert mgr.get_result("s").status is TaskStatus.CANCELLING
    assert mgr.stats().cancelling == 1
    agate.release()
    assert mgr.join("s", timeout=WAIT_S).status is TaskStatus.CANCELLED
    wait_until(
        lambda: not any(thread.is_alive() for thread in runner.threads),
        message="the loop's threads to end",
    )


def test_a_coroutine_that_blocks_the_loop_is_named_in_stats(
    manager: AsyncTaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    let_go = threading.Event()

    async def cpu_bound(ctx: TaskContext) -> int:
        spins = 0
        while not let_go.is_set():  # computes without ever awaiting
            spins += 1
        return spins

    with caplog.at_level(logging.WARNING, logger="taskmgr.runners.loop_watchdog"):
        manager.submit("crunch", cpu_bound)
        blocked = wait_until(
            lambda: manager.stats().loop.blocking, message="the watchdog to see the stall"
        )
        assert blocked == "cpu_bound ('crunch')"
        let_go.set()
        assert manager.join("crunch", timeout=WAIT_S).status is TaskStatus.SUCCESS
        health = wait_until(
            lambda: (lambda h: h if h.blocking is None else None)(manager.stats().loop),
            message="the loop to answer again",
        )
    assert health.stalls == 1 and health.last_blocker == "cpu_bound ('crunch')"
    assert health.max_lag_s >= 0.1
    assert "submit CPU-bound work as a plain function" in caplog.text


def test_an_idle_loop_is_healthy(manager: AsyncTaskManager) -> None:
    async def quick(ctx: TaskContext) -> None:
        await asyncio.sleep(0)

    manager.submit("q", quick)
    manager.join("q", timeout=WAIT_S)
    health = manager.stats().loop
    assert health.stalls == 0 and health.blocking is None and health.lag_s == 0.0
