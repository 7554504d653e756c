"""``async def`` tasks: how they start, report, fail, time out and are cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import threading
from typing import Any

import pytest

from taskmgr import AsyncTaskManager, TaskCancelled, TaskContext, TaskSnapshot, TaskStatus
from taskmgr.async_lane import is_coroutine_function

from .conftest import WAIT_S, AsyncGate


async def add(ctx: TaskContext, a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


def test_a_coroutine_function_runs_on_the_managers_loop_not_the_callers_thread(
    manager: AsyncTaskManager,
) -> None:
    where: list[threading.Thread] = []

    async def job(ctx: TaskContext) -> str:
        asyncio.get_running_loop()  # raises unless it runs on an event loop
        where.append(threading.current_thread())
        return "ok"

    manager.submit("job", job)
    final = manager.join("job", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS and final.result == "ok"
    assert where[0] is not threading.current_thread()
    assert where[0].name == "taskmgr-loop"
    assert manager.get_result("job")["data"] == "ok"


def test_kwargs_reach_the_coroutine_and_its_result_is_kept(manager: AsyncTaskManager) -> None:
    manager.submit("sum", add, {"a": 2, "b": 3})
    assert manager.join("sum", timeout=WAIT_S).result == 5


def test_partials_and_callable_objects_of_coroutines_are_coroutine_tasks() -> None:
    class Fetcher:
        async def __call__(self, ctx: TaskContext) -> None:
            await asyncio.sleep(0)

    def plain(ctx: TaskContext) -> None:
        return None

    assert is_coroutine_function(add)
    assert is_coroutine_function(functools.partial(add, a=1))
    assert is_coroutine_function(Fetcher())
    assert not is_coroutine_function(plain)
    assert not is_coroutine_function(functools.partial(plain))
    assert not is_coroutine_function(len)


def test_a_partial_of_a_coroutine_function_is_awaited(manager: AsyncTaskManager) -> None:
    manager.submit("p", functools.partial(add, a=40), {"b": 2})
    assert manager.join("p", timeout=WAIT_S).result == 42


def test_reports_from_a_coroutine_reach_listeners_in_order(manager: AsyncTaskManager) -> None:
    seen: list[TaskSnapshot] = []
    manager.add_listener(seen.append)

    async def steps(ctx: TaskContext) -> str:
        for i in range(1, 4):
            await ctx.asleep(0)
            ctx.report(progress=i / 3, message=f"step {i}", data=[i])
        return "done"

    manager.submit("steps", steps)
    final = manager.join("steps", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS and final.progress == 1.0
    mine = [snap for snap in seen if snap.id == "steps"]
    assert [snap.status for snap in mine] == [
        TaskStatus.INIT,
        TaskStatus.IN_PROGRESS,
        TaskStatus.IN_PROGRESS,
        TaskStatus.IN_PROGRESS,
        TaskStatus.IN_PROGRESS,
        TaskStatus.SUCCESS,
    ]
    assert [snap.data for snap in mine[2:5]] == [[1], [2], [3]]
    assert [snap.version for snap in mine] == sorted({snap.version for snap in mine})


def test_cancel_interrupts_the_coroutine_at_an_await_it_does_not_poll(
    manager: AsyncTaskManager,
) -> None:
    waiting = threading.Event()
    cleaned_up = threading.Event()

    async def wait_for_ever(ctx: TaskContext) -> None:
        never = asyncio.Event()  # nothing sets it and the job never looks at ctx
        waiting.set()
        try:
            await never.wait()
        finally:
            cleaned_up.set()

    manager.submit("w", wait_for_ever)
    assert waiting.wait(WAIT_S)
    assert manager.cancel("w") is True
    final = manager.join("w", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert cleaned_up.is_set()
    assert manager.stats().async_running == 0


def test_cancel_mid_asleep_goes_through_cancelling(manager: AsyncTaskManager) -> None:
    seen: list[TaskStatus] = []
    manager.add_listener(lambda snap: seen.append(snap.status))
    sleeping = threading.Event()

    async def nap(ctx: TaskContext) -> str:
        sleeping.set()
        await ctx.asleep(math.inf)
        return "overslept"

    manager.submit("nap", nap)
    assert sleeping.wait(WAIT_S)
    manager.cancel("nap")
    final = manager.join("nap", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED and final.result is None
    assert seen == [
        TaskStatus.INIT,
        TaskStatus.IN_PROGRESS,
        TaskStatus.CANCELLING,
        TaskStatus.CANCELLED,
    ]


def test_a_swallowed_cancelled_error_is_still_reported_cancelled(
    manager: AsyncTaskManager,
) -> None:
    sleeping = threading.Event()

    async def stubborn(ctx: TaskContext) -> str:
        sleeping.set()
        with contextlib.suppress(asyncio.CancelledError):  # it ignores the cancel
            await ctx.asleep(3600)
        return "finished anyway"

    manager.submit("s", stubborn)
    assert sleeping.wait(WAIT_S)
    manager.cancel("s")
    final = manager.join("s", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.result == "finished anyway"  # kept, as for a plain task


def test_check_and_report_raise_task_cancelled_once_a_swallowed_cancel_was_asked(
    manager: AsyncTaskManager,
) -> None:
    sleeping = threading.Event()
    raised: list[type[BaseException]] = []

    async def job(ctx: TaskContext) -> None:
        sleeping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await ctx.asleep(3600)
        for call in (ctx.check, ctx.report):
            try:
                call()
            except TaskCancelled as exc:
                raised.append(type(exc))
        await ctx.asleep(0)  # asleep checks first, so this ends the task

    manager.submit("j", job)
    assert sleeping.wait(WAIT_S)
    manager.cancel("j")
    assert manager.join("j", timeout=WAIT_S).status is TaskStatus.CANCELLED
    assert raised == [TaskCancelled, TaskCancelled]


def test_timeout_cancels_the_coroutine_at_its_await_and_says_so(
    manager: AsyncTaskManager,
) -> None:
    interrupted = threading.Event()

    async def slow(ctx: TaskContext) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            interrupted.set()
            raise

    manager.submit("slow", slow, timeout_s=0.2)
    final = manager.join("slow", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.message == "timed out after 0.2 s"
    assert interrupted.is_set()


def test_a_coroutine_that_finishes_in_time_is_not_timed_out(manager: AsyncTaskManager) -> None:
    manager.submit("quick", add, {"a": 1, "b": 1}, timeout_s=60)
    final = manager.join("quick", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS and final.message is None


def test_an_exception_in_one_of_many_gathered_awaits_ends_the_task_error(
    manager: AsyncTaskManager,
) -> None:
    siblings_cancelled: list[int] = []

    async def call(i: int, failed: asyncio.Event) -> int:
        if i == 7:
            await asyncio.sleep(0)
            failed.set()
            raise ConnectionError(f"upstream {i} refused")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            siblings_cancelled.append(i)
            raise
        return i

    async def fan_out(ctx: TaskContext) -> list[int]:
        failed = asyncio.Event()
        return await asyncio.gather(*(call(i, failed) for i in range(20)))

    manager.submit("fan", fan_out)
    final = manager.join("fan", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert isinstance(final.error, ConnectionError)
    assert str(final.error) == "upstream 7 refused"
    assert final.traceback is not None and "ConnectionError" in final.traceback
    # gather leaves the other awaits running; the manager cancels them once the task ends.
    done = manager.submit("after", add, {"a": 0, "b": 0})
    assert manager.join(done.id, timeout=WAIT_S).status is TaskStatus.SUCCESS
    assert sorted(siblings_cancelled) == [i for i in range(20) if i != 7]


def test_ctx_sleep_in_a_coroutine_is_refused_with_a_pointer_to_asleep(
    manager: AsyncTaskManager,
) -> None:
    async def blocking(ctx: TaskContext) -> None:
        ctx.sleep(1)

    manager.submit("b", blocking)
    final = manager.join("b", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert isinstance(final.error, TypeError)
    assert "await ctx.asleep(seconds)" in str(final.error)


def test_ctx_sleep_is_fine_in_a_thread_a_coroutine_hands_work_to(
    manager: AsyncTaskManager,
) -> None:
    def blocking_part(ctx: TaskContext) -> str:
        ctx.sleep(0.001)  # on a thread of asyncio.to_thread: it blocks nothing shared
        return "slept"

    async def job(ctx: TaskContext) -> str:
        return await asyncio.to_thread(blocking_part, ctx)

    manager.submit("j", job)
    assert manager.join("j", timeout=WAIT_S).result == "slept"


def test_a_plain_function_that_returns_a_coroutine_fails_with_advice(
    manager: AsyncTaskManager, recwarn: pytest.WarningsRecorder
) -> None:
    manager.submit("lambda", lambda ctx: add(ctx, 1, 2))
    final = manager.join("lambda", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert "submit the async def function itself" in str(final.error)
    assert not [w for w in recwarn if "was never awaited" in str(w.message)]


def test_asleep_takes_seconds_and_refuses_nonsense(manager: AsyncTaskManager) -> None:
    async def bad(ctx: TaskContext, seconds: Any) -> None:
        await ctx.asleep(seconds)

    manager.submit("nan", bad, {"seconds": math.nan})
    manager.submit("text", bad, {"seconds": "1"})
    manager.submit("negative", bad, {"seconds": -1})
    assert isinstance(manager.join("nan", timeout=WAIT_S).error, ValueError)
    text = manager.join("text", timeout=WAIT_S)
    assert "ctx.asleep() takes a number of seconds" in str(text.error)
    assert manager.join("negative", timeout=WAIT_S).status is TaskStatus.SUCCESS


def test_cancel_of_a_queued_coroutine_is_final_at_once_and_it_never_runs(
    agate: AsyncGate,
) -> None:
    ran = threading.Event()

    async def must_not_run(ctx: TaskContext) -> None:
        ran.set()

    with AsyncTaskManager(max_workers=1, max_async=1) as mgr:
        mgr.submit("hold", agate.task)
        agate.wait_started()
        queued = mgr.submit("queued", must_not_run)
        assert queued.status is TaskStatus.INIT and queued.queue_position == 1
        assert mgr.cancel("queued") is True
        assert mgr.get_result("queued").status is TaskStatus.CANCELLED
        agate.release()
        mgr.join("hold", timeout=WAIT_S)
    assert not ran.is_set()


def test_cancel_right_after_submit_never_leaves_a_task_unfinished() -> None:
    """A cancel may reach the loop before the task's first step: it must still end."""
    with AsyncTaskManager(max_workers=1, max_async=8) as mgr:
        for i in range(200):
            mgr.submit(i, add, {"a": i, "b": 0})
            mgr.cancel(i)
        finals = [mgr.join(i, timeout=WAIT_S) for i in range(200)]
    assert {snap.status for snap in finals} <= {TaskStatus.CANCELLED, TaskStatus.SUCCESS}


def test_resubmitting_a_running_coroutine_id_cancels_the_old_one(
    manager: AsyncTaskManager,
) -> None:
    sleeping = threading.Event()
    old_cancelled = threading.Event()

    async def old(ctx: TaskContext) -> None:
        sleeping.set()
        try:
            await ctx.asleep(3600)
        except asyncio.CancelledError:
            old_cancelled.set()
            raise

    manager.submit("id", old)
    assert sleeping.wait(WAIT_S)
    manager.submit("id", add, {"a": 1, "b": 2})
    assert manager.join("id", timeout=WAIT_S).result == 3
    assert old_cancelled.wait(WAIT_S)


def test_max_async_must_be_a_positive_whole_number() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="max_async must be a whole number"):
            AsyncTaskManager(max_async=bad)  # type: ignore[arg-type]


def test_a_task_submitted_from_a_coroutine_is_not_its_child(
    manager: AsyncTaskManager, agate: AsyncGate
) -> None:
    """Tasks a job spawns die with it; a task it submits to the manager does not."""

    async def submitter(ctx: TaskContext) -> None:
        manager.submit("follow-up", agate.task, {"value": "outlived its submitter"})

    manager.submit("submitter", submitter)
    assert manager.join("submitter", timeout=WAIT_S).status is TaskStatus.SUCCESS
    agate.wait_started()
    assert manager.get_result("follow-up").status is TaskStatus.IN_PROGRESS
    agate.release()
    assert manager.join("follow-up", timeout=WAIT_S).result == "outlived its submitter"
