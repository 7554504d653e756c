from __future__ import annotations

from taskmgr import AsyncTaskManager, TaskCancelled, TaskStatus, UnknownTask
from taskmgr.status import ALLOWED_TRANSITIONS

from .conftest import WAIT_S, noop


def test_status_values_match_octostar() -> None:
    assert {s.name: s.value for s in TaskStatus} == {
        "INIT": 0,
        "IN_PROGRESS": 1,
        "CANCELLING": 2,
        "SUCCESS": 10,
        "ERROR": 11,
        "CANCELLED": 12,
        "INTERRUPTED": 13,
    }


def test_final_statuses_have_no_way_out() -> None:
    for status in TaskStatus:
        assert status.is_final == (status.value >= 10)
        if status.is_final:
            assert not ALLOWED_TRANSITIONS[status]


def test_cancelled_error_is_not_an_exception_subclass() -> None:
    assert AsyncTaskManager.CancelledError is TaskCancelled
    assert issubclass(TaskCancelled, BaseException)
    assert not issubclass(TaskCancelled, Exception)
    assert issubclass(UnknownTask, KeyError)


def test_snapshot_reads_as_mapping_with_data_meaning_the_result(
    manager: AsyncTaskManager,
) -> None:
    manager.submit("t", noop, {"value": 42})
    snap = manager.join("t", timeout=WAIT_S)
    assert snap["id"] == "t"
    assert snap["status"] is TaskStatus.SUCCESS
    assert snap["data"] == 42
    assert snap.get("nope", "default") == "default"
    assert "progress" in snap
    assert snap.keys()[0] == "id"


def test_snapshot_data_is_the_exception_on_error(manager: AsyncTaskManager) -> None:
    def boom(ctx: object) -> None:
        raise ValueError("bad value")

    manager.submit("t", boom)
    snap = manager.join("t", timeout=WAIT_S)
    assert snap.status is TaskStatus.ERROR
    assert isinstance(snap["data"], ValueError)
    assert snap.error is snap["data"]
    assert snap.traceback is not None and "bad value" in snap.traceback


def test_snapshot_is_immutable(manager: AsyncTaskManager) -> None:
    snap = manager.submit("t", noop)
    try:
        snap.status = TaskStatus.SUCCESS  # type: ignore[misc]
    except AttributeError:
        pass
    else:
        raise AssertionError("snapshot accepted an assignment")
