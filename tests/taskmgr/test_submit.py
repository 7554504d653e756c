from __future__ import annotations

import threading

import pytest

from taskmgr import AsyncTaskManager, ManagerClosed, QueueFull, TaskContext, TaskStatus, UnknownTask

from .conftest import WAIT_S, Gate, noop


def test_task_runs_with_its_kwargs_and_reports_success(manager: AsyncTaskManager) -> None:
    def add(ctx: TaskContext, a: int, b: int) -> int:
        return a + b

    snap = manager.submit("sum", add, {"a": 2, "b": 3}, name="adder")
    assert snap.id == "sum" and snap.name == "adder" and snap.owner is None
    final = manager.join("sum", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS
    assert final.result == 5
    assert final.started_at is not None and final.finished_at is not None
    assert final.submitted_at <= final.started_at <= final.finished_at
    assert final.version > snap.version


def test_non_callable_is_rejected_with_a_clear_error(manager: AsyncTaskManager) -> None:
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        manager.submit("t", 42)  # type: ignore[arg-type]
    with pytest.raises(UnknownTask):
        manager.get_result("t")


def test_kwargs_must_be_a_mapping(manager: AsyncTaskManager) -> None:
    with pytest.raises(TypeError, match="kwargs must be a mapping, got list"):
        manager.submit("t", noop, [1, 2])  # type: ignore[arg-type]


def test_unhashable_id_is_rejected(manager: AsyncTaskManager) -> None:
    with pytest.raises(TypeError, match="task_id must be hashable"):
        manager.submit(["x"], noop)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1.5, float("nan"), float("inf"), "5"])
def test_bad_timeout_is_rejected(manager: AsyncTaskManager, bad: object) -> None:
    with pytest.raises(ValueError, match="timeout_s"):
        manager.submit("t", noop, timeout_s=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_workers": 0}, {"max_queued_per_owner": -1}, {"max_results": 0}, {"result_ttl_s": 0}],
)
def test_bad_configuration_is_rejected(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        AsyncTaskManager(**kwargs)  # type: ignore[arg-type]


def test_the_caller_changing_kwargs_later_does_not_reach_the_task(
    manager: AsyncTaskManager, gate: Gate
) -> None:
    manager.submit("hold", gate.task)
    manager.submit("hold2", gate.task)
    gate.wait_started(2)
    params = {"value": "original"}
    manager.submit("t", noop, params)
    params["value"] = "changed"
    gate.release.set()
    assert manager.join("t", timeout=WAIT_S).result == "original"


def test_queue_full_past_the_owner_limit_and_others_unaffected(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1, max_queued_per_owner=3) as mgr:
        mgr.submit("running", gate.task, owner="a")
        gate.wait_started()
        for i in range(3):
            mgr.submit(f"q{i}", noop, owner="a")
        with pytest.raises(QueueFull, match="max_queued_per_owner=3"):
            mgr.submit("q3", noop, owner="a")
        # Another owner still has room, and owner a's queued work is intact.
        mgr.submit("q0", noop, owner="b")
        assert [s.id for s in mgr.list_tasks("a")] == ["running", "q0", "q1", "q2"]
        # Resubmitting a queued id replaces it rather than adding one.
        mgr.submit("q1", noop, {"value": "again"}, owner="a")
        gate.release.set()
        assert mgr.join("q1", owner="a", timeout=WAIT_S).result == "again"


def test_submit_after_shutdown_raises_manager_closed() -> None:
    mgr = AsyncTaskManager(max_workers=1)
    mgr.shutdown()
    with pytest.raises(ManagerClosed):
        mgr.submit("t", noop)


def test_unknown_id_raises_unknown_task(manager: AsyncTaskManager) -> None:
    with pytest.raises(UnknownTask, match="unknown task id 'never'"):
        manager.get_result("never")
    with pytest.raises(UnknownTask):
        manager.join("never", timeout=1)
    assert manager.cancel("never") is False


def test_another_owners_id_looks_exactly_like_an_unknown_one(manager: AsyncTaskManager) -> None:
    manager.submit("report", noop, {"value": "secret"}, owner="alice")
    manager.join("report", owner="alice", timeout=WAIT_S)
    with pytest.raises(UnknownTask) as theirs:
        manager.get_result("report", owner="mallory")
    with pytest.raises(UnknownTask) as never:
        manager.get_result("never-existed", owner="mallory")
    assert str(theirs.value).replace("report", "X") == str(never.value).replace(
        "never-existed", "X"
    )
    assert manager.cancel("report", owner="mallory") is False
    assert manager.list_tasks("mallory") == []
    assert manager.get_result("report", owner="alice").result == "secret"


def test_same_id_under_two_owners_are_two_tasks(manager: AsyncTaskManager) -> None:
    manager.submit("report", noop, {"value": 1}, owner="a")
    manager.submit("report", noop, {"value": 2}, owner="b")
    assert manager.join("report", owner="a", timeout=WAIT_S).result == 1
    assert manager.join("report", owner="b", timeout=WAIT_S).result == 2


def test_resubmitting_a_running_id_never_blocks_and_the_id_shows_the_new_task(
    manager: AsyncTaskManager, gate: Gate
) -> None:
    # The old task ignores cancellation: octostar's manager blocked the script thread here.
    manager.submit("job", gate.stubborn, {"value": "old"})
    gate.wait_started()
    returned = threading.Event()

    def resubmit() -> None:
        manager.submit("job", noop, {"value": "new"})
        returned.set()

    threading.Thread(target=resubmit, daemon=True).start()
    assert returned.wait(WAIT_S), "submit blocked behind a task that ignores cancel"
    assert manager.join("job", timeout=WAIT_S).result == "new"
    assert manager.stats().cancelling == 1  # the old one is still finishing
    gate.release.set()
    manager.shutdown(wait=True, cancel=False)
    assert manager.stats().running == 0
    assert manager.get_result("job").result == "new"


def test_resubmitting_a_queued_id_replaces_it_without_running_it(gate: Gate) -> None:
    ran: list[str] = []

    def record(ctx: TaskContext, tag: str) -> str:
        ran.append(tag)
        return tag

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("hold", gate.task)
        gate.wait_started()
        mgr.submit("job", record, {"tag": "first"})
        mgr.submit("job", record, {"tag": "second"})
        gate.release.set()
        assert mgr.join("job", timeout=WAIT_S).result == "second"
        assert ran == ["second"]


def test_resubmitting_a_finished_id_starts_afresh(manager: AsyncTaskManager) -> None:
    manager.submit("job", noop, {"value": 1})
    manager.join("job", timeout=WAIT_S)
    snap = manager.submit("job", noop, {"value": 2})
    assert snap.status in (TaskStatus.INIT, TaskStatus.IN_PROGRESS)
    assert manager.join("job", timeout=WAIT_S).result == 2
    assert len(manager.list_tasks()) == 1


def test_queue_position_counts_places_in_fair_order(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("hold", gate.task, owner="x")
        gate.wait_started()
        for i in range(3):
            mgr.submit(f"a{i}", noop, owner="a")
        b0 = mgr.submit("b0", noop, owner="b")
        assert [mgr.get_result(f"a{i}", owner="a").queue_position for i in range(3)] == [1, 3, 4]
        assert b0.queue_position == 2
        assert mgr.get_result("hold", owner="x").queue_position is None
        gate.release.set()


def test_join_times_out_with_timeout_error(manager: AsyncTaskManager, gate: Gate) -> None:
    manager.submit("slow", gate.task)
    gate.wait_started()
    with pytest.raises(TimeoutError, match="still IN_PROGRESS"):
        manager.join("slow", timeout=0.05)
    gate.release.set()
    assert manager.join("slow", timeout=WAIT_S).status is TaskStatus.SUCCESS
