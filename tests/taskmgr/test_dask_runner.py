"""What only a cluster can do to a task: lose its worker, refuse what cannot travel,
restart a worker to end a task that ignores cancel, go away and come back."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskmgr import AsyncTaskManager, TaskStatus
from taskmgr.runners.dask import ClusterUnavailable, DaskRunner, WorkerLost
from tests.support import dask_jobs as jobs
from tests.support.dask_cluster import DaskCluster
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(180)
WAIT_S = 60.0


@pytest.fixture
def manager(dask_cluster: DaskCluster) -> Iterator[AsyncTaskManager]:
    runner = DaskRunner(2, dask_cluster.address, cancel_grace_s=1.0)
    mgr = AsyncTaskManager(max_workers=2, runner=runner)
    yield mgr
    mgr.shutdown(wait=True, cancel=True)


def test_a_task_whose_worker_dies_ends_error_and_the_manager_keeps_serving(
    manager: AsyncTaskManager, dask_cluster: DaskCluster
) -> None:
    manager.submit("dies", jobs.exit_process)
    snap = manager.join("dies", timeout=WAIT_S)
    assert snap.status is TaskStatus.ERROR
    assert isinstance(snap.error, WorkerLost)
    assert "worker lost" in str(snap.error)
    manager.submit("after", jobs.add, {"a": 1, "b": 2})
    assert manager.join("after", timeout=WAIT_S).result == 3


def test_an_unpicklable_function_or_parameter_is_refused_at_submit(
    manager: AsyncTaskManager,
) -> None:
    lock = threading.Lock()
    with pytest.raises(TypeError, match="cannot be pickled"):
        manager.submit("fn", lambda ctx, held=lock: None)
    with pytest.raises(TypeError, match="parameters cannot be sent to a Dask worker"):
        manager.submit("param", jobs.add, {"a": lock, "b": 1})
    with pytest.raises(Exception, match="unknown task"):
        manager.get_result("fn")


def test_a_task_ignoring_cancel_is_ended_by_restarting_its_worker(
    manager: AsyncTaskManager,
) -> None:
    manager.submit("stubborn", jobs.ignore_cancel, {"seconds": 600})
    wait_until(lambda: manager.get_result("stubborn").message == "busy", timeout=WAIT_S)
    manager.cancel("stubborn")
    snap = manager.join("stubborn", timeout=WAIT_S)
    assert snap.status is TaskStatus.CANCELLED
    assert snap.result is None  # it never finished: its worker was restarted
    manager.submit("after", jobs.add, {"a": 2, "b": 2})
    assert manager.join("after", timeout=WAIT_S).result == 4


def test_cluster_going_away_ends_running_tasks_error_and_refuses_new_ones(
    tmp_path: Path,
) -> None:
    cluster = DaskCluster(tmp_path, workers=1, nthreads=1).start()
    try:
        mgr = AsyncTaskManager(max_workers=1, runner=DaskRunner(1, cluster.address))
        mgr.submit("t", jobs.sleep_forever)
        wait_until(lambda: mgr.get_result("t").message == "sleeping", timeout=WAIT_S)
        cluster.kill_scheduler()
        snap = mgr.join("t", timeout=WAIT_S)
        assert snap.status is TaskStatus.ERROR
        assert isinstance(snap.error, ClusterUnavailable)
        with pytest.raises(ClusterUnavailable, match="not available"):
            mgr.submit("new", jobs.nap, {"seconds": math.inf})
        mgr.shutdown(wait=True, cancel=True)
    finally:
        cluster.stop()


def test_backend_dask_starts_a_local_cluster_of_worker_processes() -> None:
    mgr = AsyncTaskManager(max_workers=2, backend="dask")
    try:
        mgr.submit("pid", jobs.worker_pid)
        pid = mgr.join("pid", timeout=WAIT_S).result
        assert isinstance(pid, int) and pid != __import__("os").getpid()
    finally:
        mgr.shutdown(wait=True, cancel=True)


def test_the_dashboard_link_is_the_configured_public_one_when_set(
    manager: AsyncTaskManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert manager.dashboard_link is None  # this scheduler runs without a dashboard
    monkeypatch.setenv("DASK_DASHBOARD_URL", "https://example.org/dask/status")
    assert manager.dashboard_link == "https://example.org/dask/status"
    assert AsyncTaskManager(max_workers=1, backend="threads").dashboard_link is None
