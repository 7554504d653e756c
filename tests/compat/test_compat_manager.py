"""taskmgr.compat's own behaviour where octostar has nothing to compare with (it blocks)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from taskmgr.compat import AsyncTaskManager, TaskStatus
from tests.compat.conftest import WAIT_S, run_bounded
from tests.support.wait import wait_until


@pytest.fixture
def manager() -> Iterator[AsyncTaskManager]:
    made = AsyncTaskManager(2)
    yield made
    made.cancel_all()
    made._manager.shutdown(wait=True, cancel=True)


def running_task(started: threading.Event, go: threading.Event) -> Any:
    def hold(task_data: Any) -> str:
        started.set()
        go.wait(WAIT_S)
        return "old"

    return hold


def test_cancelling_a_resubmission_that_waits_for_the_old_task(manager: AsyncTaskManager) -> None:
    started, go, ran = threading.Event(), threading.Event(), threading.Event()
    manager.submit("r", running_task(started, go))
    assert started.wait(WAIT_S)
    manager.submit("r", lambda task_data: ran.set())
    assert manager.cancel("r") is True
    assert manager.cancel("r") is False
    assert manager.get_result("r")["status"] is TaskStatus.CANCELLED
    go.set()
    manager.join("r", timeout=WAIT_S)
    assert manager.get_result("r")["status"] is TaskStatus.CANCELLED
    assert not ran.is_set()


def test_join_waits_through_a_resubmission(manager: AsyncTaskManager) -> None:
    started, go = threading.Event(), threading.Event()
    manager.submit("r", running_task(started, go))
    assert started.wait(WAIT_S)
    manager.submit("r", lambda task_data: "new")
    joined = run_bounded(lambda: manager.join("r", timeout=WAIT_S), 0.2)
    assert not joined.done
    go.set()
    assert joined.finished.wait(WAIT_S) and joined.error is None
    assert manager.get_result("r") == {"id": "r", "status": TaskStatus.SUCCESS, "data": "new"}


def test_join_all_runs_a_waiting_resubmission_first(manager: AsyncTaskManager) -> None:
    started, go = threading.Event(), threading.Event()
    manager.submit("r", running_task(started, go))
    assert started.wait(WAIT_S)
    manager.submit("r", lambda task_data: "new")
    stopping = run_bounded(manager.join_all, 0.2)
    assert not stopping.done
    go.set()
    assert stopping.finished.wait(WAIT_S) and stopping.error is None
    assert manager.get_result("r")["data"] == "new"


def test_join_takes_a_timeout(manager: AsyncTaskManager) -> None:
    go = threading.Event()
    manager.submit("slow", lambda task_data: go.wait(WAIT_S))
    with pytest.raises(TimeoutError):
        manager.join("slow", timeout=0.05)
    go.set()


def test_output_on_the_manager_sets_a_running_tasks_data(manager: AsyncTaskManager) -> None:
    started, go = threading.Event(), threading.Event()
    manager.submit("r", running_task(started, go))
    assert started.wait(WAIT_S)
    manager.output("r", TaskStatus.IN_PROGRESS, {"from": "outside"})
    assert manager.get_result("r")["data"] == {"from": "outside"}
    go.set()


def test_results_queue_get_waits_for_a_submission(manager: AsyncTaskManager) -> None:
    waiting = run_bounded(lambda: manager.results_queue.get("later", timeout=WAIT_S), 0.05)
    assert not waiting.done
    manager.submit("later", lambda task_data: 1)
    assert waiting.finished.wait(WAIT_S)
    assert waiting.value is not None and waiting.value["id"] == "later"
    with pytest.raises(TimeoutError):
        manager.results_queue.get("never", timeout=0.05)


def test_results_queue_is_read_only(manager: AsyncTaskManager) -> None:
    manager.submit("a", lambda task_data: 1)
    with pytest.raises(TypeError, match="read-only"):
        manager.results_queue.get_nowait("a", remove=True)


@pytest.mark.parametrize("workers", [0, -1, 2.5, "8"])
def test_a_bad_worker_count_is_refused(workers: Any) -> None:
    with pytest.raises(ValueError, match="max_workers"):
        AsyncTaskManager(workers)


def test_kwargs_must_be_a_mapping(manager: AsyncTaskManager) -> None:
    with pytest.raises(TypeError, match="kwargs must be a mapping"):
        manager.submit("a", lambda task_data, x: x, [1])  # type: ignore[arg-type]


def test_one_task_raising_does_not_stop_the_others(manager: AsyncTaskManager) -> None:
    def fail(task_data: Any) -> None:
        raise ValueError("boom")

    manager.submit("bad", fail)
    manager.submit("good", lambda task_data: "fine")
    manager.join("bad", timeout=WAIT_S)
    manager.join("good", timeout=WAIT_S)
    assert manager.get_result("good")["data"] == "fine"
    wait_until(lambda: manager._manager.stats().running == 0, timeout=WAIT_S)


def test_cancelled_queued_tasks_leave_nothing_behind() -> None:
    started, go = threading.Event(), threading.Event()
    single = AsyncTaskManager(1)
    try:
        single.submit("hold", running_task(started, go))
        assert started.wait(WAIT_S)
        for n in range(20):
            single.submit(f"q{n}", lambda task_data: None)
            single.cancel(f"q{n}")
        assert list(single._live) == ["hold"]
        go.set()
        single.join("hold", timeout=WAIT_S)
        assert single._live == {}
    finally:
        go.set()
        single.join_all()
