from __future__ import annotations

import threading

import pytest

from taskmgr import AsyncTaskManager, ManagerClosed, TaskContext, TaskStatus

from .conftest import WAIT_S, Gate, noop


def test_shutdown_cancels_queued_and_running_and_waits(gate: Gate) -> None:
    mgr = AsyncTaskManager(max_workers=1)
    mgr.submit("run", gate.task)
    gate.wait_started()
    mgr.submit("queued", noop)
    mgr.shutdown(wait=True, cancel=True)
    assert mgr.get_result("run").status is TaskStatus.CANCELLED
    assert mgr.get_result("queued").status is TaskStatus.CANCELLED
    assert mgr.stats().running == 0
    assert mgr.closed


def test_join_all_lets_queued_tasks_finish_first(gate: Gate) -> None:
    mgr = AsyncTaskManager(max_workers=1)
    mgr.submit("run", gate.task, {"value": "r"})
    gate.wait_started()
    for i in range(5):
        mgr.submit(i, noop, {"value": i})
    gate.release.set()
    mgr.join_all()
    assert mgr.get_result("run").result == "r"
    assert [mgr.get_result(i).result for i in range(5)] == list(range(5))
    with pytest.raises(ManagerClosed):
        mgr.submit("late", noop)


def test_shutdown_without_wait_returns_while_a_task_still_runs(gate: Gate) -> None:
    mgr = AsyncTaskManager(max_workers=1)
    mgr.submit("stubborn", gate.stubborn)
    gate.wait_started()
    mgr.shutdown(wait=False, cancel=True)  # returns although the task ignores cancel
    assert mgr.get_result("stubborn").status is TaskStatus.CANCELLING
    gate.release.set()
    assert mgr.join("stubborn", timeout=WAIT_S).status is TaskStatus.CANCELLED


def test_cancel_racing_shutdown_leaves_every_task_final() -> None:
    def work(ctx: TaskContext) -> None:
        ctx.sleep(0.01)

    for _ in range(20):
        mgr = AsyncTaskManager(max_workers=2)
        for i in range(30):
            mgr.submit(i, work)
        go = threading.Barrier(3)

        def cancel_some(
            ids: range, mgr: AsyncTaskManager = mgr, go: threading.Barrier = go
        ) -> None:
            go.wait()
            for i in ids:
                mgr.cancel(i)

        threads = [
            threading.Thread(target=cancel_some, args=(range(0, 30, 2),)),
            threading.Thread(target=cancel_some, args=(range(1, 30, 2),)),
        ]
        for thread in threads:
            thread.start()
        go.wait()
        mgr.shutdown(wait=True, cancel=True)
        for thread in threads:
            thread.join(WAIT_S)
        statuses = {mgr.get_result(i).status for i in range(30)}
        assert all(status.is_final for status in statuses), statuses
        assert mgr.stats().running == 0


def test_context_manager_shuts_down() -> None:
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("t", noop)
    assert mgr.closed
    assert mgr.get_result("t").status.is_final


def test_shutdown_without_wait_or_cancel_still_runs_the_queue(gate: Gate) -> None:
    mgr = AsyncTaskManager(max_workers=2, max_running_per_owner=1)
    mgr.submit("run", gate.task, owner="a")
    gate.wait_started()
    for i in range(5):
        mgr.submit(i, noop, {"value": i}, owner="a")
        mgr.submit(i, noop, {"value": -i}, owner="b")
    mgr.shutdown(wait=False, cancel=False)
    gate.release.set()
    assert [mgr.join(i, owner="a", timeout=WAIT_S).result for i in range(5)] == list(range(5))
    assert [mgr.join(i, owner="b", timeout=WAIT_S).result for i in range(5)] == [0, -1, -2, -3, -4]
    assert mgr._runner_released
