from __future__ import annotations

import threading
import time

from taskmgr import AsyncTaskManager, TaskCancelled, TaskContext, TaskStatus

from .conftest import WAIT_S, Gate


def test_cancel_of_queued_task_is_final_at_once_and_it_never_runs(gate: Gate) -> None:
    ran = threading.Event()

    def must_not_run(ctx: TaskContext) -> None:
        ran.set()

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("hold", gate.task)
        gate.wait_started()
        mgr.submit("queued", must_not_run)
        assert mgr.cancel("queued") is True
        snap = mgr.get_result("queued")
        assert snap.status is TaskStatus.CANCELLED
        assert snap.finished_at is not None and snap.started_at is None
        assert mgr.cancel("queued") is False  # already final
        gate.release.set()
        mgr.join("hold", timeout=WAIT_S)
        mgr.shutdown(wait=True, cancel=False)
        assert not ran.is_set()


def test_cancel_of_running_task_goes_through_cancelling(
    manager: AsyncTaskManager, gate: Gate
) -> None:
    seen: list[TaskStatus] = []
    manager.add_listener(lambda snap: seen.append(snap.status))
    manager.submit("t", gate.task)
    gate.wait_started()
    assert manager.cancel("t") is True
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert seen == [
        TaskStatus.INIT,
        TaskStatus.IN_PROGRESS,
        TaskStatus.CANCELLING,
        TaskStatus.CANCELLED,
    ]


def test_cancel_wakes_ctx_sleep_at_once(manager: AsyncTaskManager) -> None:
    sleeping = threading.Event()

    def nap(ctx: TaskContext) -> str:
        sleeping.set()
        ctx.sleep(3600)
        return "overslept"

    manager.submit("nap", nap)
    assert sleeping.wait(WAIT_S)
    manager.cancel("nap")
    final = manager.join("nap", timeout=WAIT_S)  # an hour-long sleep ended: it woke
    assert final.status is TaskStatus.CANCELLED
    assert final.result is None


def test_value_returned_after_cancel_is_kept_but_status_is_cancelled(
    manager: AsyncTaskManager,
) -> None:
    started = threading.Event()

    def partial_answer(ctx: TaskContext) -> str:
        started.set()
        try:
            ctx.sleep(3600)
        except TaskCancelled:
            return "partial"
        return "full"

    manager.submit("t", partial_answer)
    assert started.wait(WAIT_S)
    manager.cancel("t")
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.result == "partial"


def test_error_raised_after_cancel_is_kept(manager: AsyncTaskManager) -> None:
    started = threading.Event()

    def cleanup_fails(ctx: TaskContext) -> None:
        started.set()
        try:
            ctx.sleep(3600)
        except TaskCancelled:
            raise RuntimeError("cleanup failed") from None

    manager.submit("t", cleanup_fails)
    assert started.wait(WAIT_S)
    manager.cancel("t")
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert isinstance(final.error, RuntimeError)


def test_except_exception_in_a_task_does_not_swallow_cancel(manager: AsyncTaskManager) -> None:
    started = threading.Event()

    def careless(ctx: TaskContext) -> str:
        started.set()
        try:
            ctx.sleep(3600)
        except Exception:
            return "swallowed"
        return "not reached"

    manager.submit("t", careless)
    assert started.wait(WAIT_S)
    manager.cancel("t")
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED and final.result is None


def test_task_ignoring_cancel_stays_cancelling_and_is_counted(
    manager: AsyncTaskManager, gate: Gate
) -> None:
    manager.submit("stubborn", gate.stubborn)
    gate.wait_started()
    assert manager.cancel("stubborn") is True
    assert manager.cancel("stubborn") is True  # still cancelling: still true
    assert manager.get_result("stubborn").status is TaskStatus.CANCELLING
    assert manager.stats().cancelling == 1
    gate.release.set()
    assert manager.join("stubborn", timeout=WAIT_S).status is TaskStatus.CANCELLED
    assert manager.stats().cancelling == 0


def test_report_and_check_raise_once_cancelled(manager: AsyncTaskManager) -> None:
    outcomes: list[str] = []
    started = threading.Event()
    cancelled = threading.Event()

    def probe(ctx: TaskContext) -> None:
        started.set()
        assert cancelled.wait(WAIT_S)
        assert ctx.cancelled
        for call in (ctx.check, lambda: ctx.report(progress=0.5), lambda: ctx.output(None, 1)):
            try:
                call()
            except TaskCancelled:
                outcomes.append("raised")

    manager.submit("t", probe)
    assert started.wait(WAIT_S)
    manager.cancel("t")
    cancelled.set()
    manager.join("t", timeout=WAIT_S)
    assert outcomes == ["raised"] * 3


def test_cancel_owner_cancels_only_that_owners_tasks(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.submit("run", gate.task, owner="a")
        mgr.submit("run", gate.task, owner="b")
        gate.wait_started(2)
        mgr.submit("queued", gate.task, owner="a")
        mgr.submit("queued", gate.task, owner="b")
        assert mgr.cancel_owner("a") == 2
        assert mgr.get_result("queued", owner="a").status is TaskStatus.CANCELLED
        assert mgr.join("run", owner="a", timeout=WAIT_S).status is TaskStatus.CANCELLED
        assert mgr.get_result("run", owner="b").status is TaskStatus.IN_PROGRESS
        assert mgr.cancel_owner("a") == 0
        assert mgr.cancel_owner("nobody") == 0
        gate.release.set()
        assert mgr.join("queued", owner="b", timeout=WAIT_S).status is TaskStatus.SUCCESS


def test_cancel_all_cancels_every_owner(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("run", gate.task, owner="a")
        gate.wait_started()
        mgr.submit("q", gate.task, owner="b")
        assert mgr.cancel_all() == 2
        assert mgr.join("run", owner="a", timeout=WAIT_S).status is TaskStatus.CANCELLED
        assert mgr.get_result("q", owner="b").status is TaskStatus.CANCELLED


def test_timeout_cancels_a_running_task_and_says_so(manager: AsyncTaskManager) -> None:
    def forever(ctx: TaskContext) -> None:
        ctx.sleep(3600)

    manager.submit("slow", forever, timeout_s=0.2)
    final = manager.join("slow", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.message == "timed out after 0.2 s"


def test_timeout_counts_from_start_not_from_submit(gate: Gate) -> None:
    def quick(ctx: TaskContext) -> str:
        return "done"

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("hold", gate.task)
        gate.wait_started()
        mgr.submit("quick", quick, timeout_s=0.05)
        # Queued for longer than its timeout, which does not count while queued.
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:  # ok: poll with a deadline, no event to wait on
            assert mgr.get_result("quick").status is TaskStatus.INIT
            time.sleep(0.01)  # ok: poll interval
        gate.release.set()
        assert mgr.join("quick", timeout=WAIT_S).status is TaskStatus.SUCCESS


def test_finished_task_clears_its_timeout(manager: AsyncTaskManager) -> None:
    manager.submit("t", lambda ctx: "ok", timeout_s=3600)
    manager.join("t", timeout=WAIT_S)
    assert manager._deadlines.pending() == 0
