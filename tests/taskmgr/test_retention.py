from __future__ import annotations

import threading
import time

import pytest

from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus, UnknownTask

from .conftest import WAIT_S, Gate, noop


def test_finished_results_are_bounded_by_count_oldest_first() -> None:
    with AsyncTaskManager(max_workers=2, max_results=10, max_queued_per_owner=1000) as mgr:
        for i in range(50):
            mgr.submit(i, noop, {"value": i})
            mgr.join(i, timeout=WAIT_S)
        assert mgr.stats().retained == 10
        assert [s.id for s in mgr.list_tasks()] == list(range(40, 50))
        with pytest.raises(UnknownTask):
            mgr.get_result(0)


def test_finished_results_expire_after_their_ttl() -> None:
    with AsyncTaskManager(max_workers=1, result_ttl_s=0.2) as mgr:
        mgr.submit("t", noop)
        mgr.join("t", timeout=WAIT_S)
        deadline = time.monotonic() + WAIT_S
        while True:  # poll with a deadline until the result expires
            try:
                mgr.get_result("t")
            except UnknownTask:
                break
            assert time.monotonic() < deadline, "result never expired"
            time.sleep(0.02)  # ok: poll interval
        assert mgr.stats().retained == 0
        assert mgr.list_tasks() == []


def test_queued_and_running_tasks_are_never_evicted(gate: Gate) -> None:
    done = threading.Semaphore(0)

    def on_change(snap: TaskSnapshot) -> None:
        if snap.owner == "b" and snap.status is TaskStatus.SUCCESS:
            done.release()

    with AsyncTaskManager(
        max_workers=2, max_running_per_owner=1, max_results=2, result_ttl_s=0.05
    ) as mgr:
        mgr.add_listener(on_change)
        mgr.submit("running", gate.task, owner="a")
        gate.wait_started()
        mgr.submit("queued", noop, owner="a")
        for i in range(20):  # plenty of finished results from another owner
            mgr.submit(i, noop, owner="b")
        for _ in range(20):
            assert done.acquire(timeout=WAIT_S)
        deadline = time.monotonic() + WAIT_S
        while mgr.list_tasks("b"):  # poll with a deadline until b's results expired
            assert time.monotonic() < deadline, "results never expired"
            time.sleep(0.02)  # ok: poll interval
        assert mgr.get_result("running", owner="a").status is TaskStatus.IN_PROGRESS
        assert mgr.get_result("queued", owner="a").status is TaskStatus.INIT
        gate.release.set()
        assert mgr.join("queued", owner="a", timeout=WAIT_S).status is TaskStatus.SUCCESS


def test_an_owner_whose_results_all_expired_leaves_no_trace() -> None:
    with AsyncTaskManager(max_workers=1, max_results=1) as mgr:
        mgr.submit("t", noop, owner="gone")
        mgr.join("t", owner="gone", timeout=WAIT_S)
        mgr.submit("t", noop, owner="other")
        mgr.join("t", owner="other", timeout=WAIT_S)
        assert "gone" not in mgr._tasks
        assert mgr.stats().per_owner == {}
