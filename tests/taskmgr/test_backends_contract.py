"""The manager's contract on both runners: the same jobs on threads and on a real
Dask cluster (one scheduler and two worker processes, shared by the session)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import pytest

from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus
from taskmgr.runners import ThreadPoolRunner
from taskmgr.runners.dask import DaskRunner
from tests.support import dask_jobs as jobs
from tests.support.dask_cluster import DaskCluster
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(120)
WAIT_S = 30.0
MakeManager = Callable[..., AsyncTaskManager]


@pytest.fixture(params=["threads", "dask"])
def make_manager(request: pytest.FixtureRequest) -> Iterator[MakeManager]:
    made: list[AsyncTaskManager] = []

    def make(max_workers: int = 2) -> AsyncTaskManager:
        if request.param == "dask":
            cluster: DaskCluster = request.getfixturevalue("dask_cluster")
            runner: DaskRunner | ThreadPoolRunner = DaskRunner(max_workers, cluster.address)
        else:
            runner = ThreadPoolRunner(max_workers)
        mgr = AsyncTaskManager(max_workers=max_workers, runner=runner)
        made.append(mgr)
        return mgr

    yield make
    for mgr in made:
        mgr.shutdown(wait=True, cancel=True)


def _showing(mgr: AsyncTaskManager, task_id: str, message: str) -> TaskSnapshot | None:
    snap = mgr.get_result(task_id)
    return snap if snap.message == message else None


def test_task_runs_with_its_kwargs_and_returns_its_result(make_manager: MakeManager) -> None:
    mgr = make_manager()
    mgr.submit("t", jobs.add, {"a": 2, "b": 3})
    snap = mgr.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.SUCCESS
    assert snap.result == 5


def test_reports_reach_the_manager_in_order_with_their_data(make_manager: MakeManager) -> None:
    mgr = make_manager()
    seen: list[TaskSnapshot] = []
    mgr.add_listener(seen.append)
    mgr.submit("t", jobs.report_steps, {"steps": 20})
    snap = mgr.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.SUCCESS
    assert (snap.progress, snap.message, snap.data) == (1.0, "step 20", {"i": 19})
    progress = [s.progress for s in seen if s.progress is not None]
    assert progress == sorted(progress)  # coalesced maybe, never out of order


def test_cancel_wakes_a_task_in_ctx_sleep(make_manager: MakeManager) -> None:
    mgr = make_manager()
    mgr.submit("t", jobs.sleep_forever)
    wait_until(lambda: _showing(mgr, "t", "sleeping"), timeout=WAIT_S)
    assert mgr.cancel("t")
    snap = mgr.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.CANCELLED


def test_cancel_of_a_queued_task_is_final_at_once_and_never_runs(make_manager: MakeManager) -> None:
    mgr = make_manager(max_workers=1)
    mgr.submit("first", jobs.sleep_forever)
    mgr.submit("second", jobs.add, {"a": 1, "b": 1})
    assert mgr.cancel("second")
    snap = mgr.get_result("second")
    assert snap.status is TaskStatus.CANCELLED
    assert snap.started_at is None
    mgr.cancel("first")
    assert mgr.join("first", timeout=WAIT_S).status is TaskStatus.CANCELLED


def test_timeout_cancels_a_running_task_and_says_so(make_manager: MakeManager) -> None:
    mgr = make_manager()
    mgr.submit("t", jobs.nap, {"seconds": math.inf}, timeout_s=0.5)
    snap = mgr.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.CANCELLED
    assert snap.message is not None and "timed out" in snap.message


def test_an_exception_becomes_error_with_its_traceback(make_manager: MakeManager) -> None:
    mgr = make_manager()
    mgr.submit("t", jobs.fail, {"text": "boom"})
    snap = mgr.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.ERROR
    assert isinstance(snap.error, ValueError) and str(snap.error) == "boom"
    assert snap.traceback is not None and "boom" in snap.traceback


def test_a_newcomer_is_served_before_a_greedy_owners_queue(make_manager: MakeManager) -> None:
    mgr = make_manager(max_workers=1)
    for i in range(3):
        mgr.submit(f"a{i}", jobs.nap, {"seconds": 0.2}, owner="greedy")
    mgr.submit("b", jobs.nap, {"seconds": 0.2}, owner="late")
    late = mgr.join("b", owner="late", timeout=WAIT_S)
    second = mgr.join("a1", owner="greedy", timeout=WAIT_S)
    assert late.started_at is not None and second.started_at is not None
    assert late.started_at < second.started_at
