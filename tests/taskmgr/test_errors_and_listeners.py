from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from taskmgr import AsyncTaskManager, TaskContext, TaskSnapshot, TaskStatus

from .conftest import WAIT_S, Gate, noop


def test_exception_in_task_becomes_error_with_traceback(manager: AsyncTaskManager) -> None:
    def divide(ctx: TaskContext, by: int) -> float:
        return 1 / by

    manager.submit("t", divide, {"by": 0})
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert isinstance(final.error, ZeroDivisionError)
    assert final.traceback is not None and "in divide" in final.traceback
    assert final.error.__traceback__ is None  # frames are not kept alive


def test_base_exception_in_task_does_not_kill_the_worker(manager: AsyncTaskManager) -> None:
    def bail(ctx: TaskContext) -> None:
        raise SystemExit(3)

    manager.submit("bail", bail)
    assert manager.join("bail", timeout=WAIT_S).status is TaskStatus.ERROR
    manager.submit("after", noop, {"value": "alive"})
    assert manager.join("after", timeout=WAIT_S).result == "alive"


def test_report_publishes_partial_results_and_keeps_unset_fields(
    manager: AsyncTaskManager,
) -> None:
    step = threading.Event()
    go = threading.Event()
    seen: list[TaskSnapshot] = []

    def stepper(ctx: TaskContext) -> str:
        ctx.report(progress=0.25, message="first", data=[1])
        step.set()
        assert go.wait(WAIT_S)
        ctx.report(progress=7)  # clamped
        ctx.report(message="second")
        return "done"

    manager.add_listener(seen.append)
    manager.submit("t", stepper)
    assert step.wait(WAIT_S)
    mid = manager.get_result("t")
    assert (mid.progress, mid.message, mid.data) == (0.25, "first", [1])
    go.set()
    final = manager.join("t", timeout=WAIT_S)
    assert (final.progress, final.message, final.data) == (1.0, "second", [1])
    versions = [snap.version for snap in seen]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)


@pytest.mark.parametrize("bad", ["half", float("nan")])
def test_bad_progress_is_an_error_in_the_task(manager: AsyncTaskManager, bad: Any) -> None:
    def reporter(ctx: TaskContext) -> None:
        ctx.report(progress=bad)

    manager.submit("t", reporter)
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert "progress must be a number" in str(final.error)


def test_raising_listener_is_logged_and_kept(
    manager: AsyncTaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[TaskStatus] = []

    def broken(snap: TaskSnapshot) -> None:
        calls.append(snap.status)
        raise RuntimeError("listener bug")

    manager.add_listener(broken)
    with caplog.at_level(logging.ERROR, logger="taskmgr.manager"):
        manager.submit("a", noop)
        manager.join("a", timeout=WAIT_S)
        manager.submit("b", noop)
        assert manager.join("b", timeout=WAIT_S).status is TaskStatus.SUCCESS
    assert calls.count(TaskStatus.SUCCESS) == 2
    assert "listener" in caplog.text and "listener bug" in caplog.text


def test_removed_listener_is_not_called_again(manager: AsyncTaskManager) -> None:
    calls: list[TaskSnapshot] = []
    remove = manager.add_listener(calls.append)
    manager.submit("a", noop)
    manager.join("a", timeout=WAIT_S)
    remove()
    before = len(calls)
    manager.submit("b", noop)
    manager.join("b", timeout=WAIT_S)
    assert before > 0 and len(calls) == before


def test_listener_must_be_callable(manager: AsyncTaskManager) -> None:
    with pytest.raises(TypeError, match="listener must be callable"):
        manager.add_listener("not a function")  # type: ignore[arg-type]


def test_listener_snapshots_of_a_queued_task_carry_no_queue_position(gate: Gate) -> None:
    """Reading the place is a pass over the owners under the lock: listeners don't pay it."""
    seen: list[TaskSnapshot] = []
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.add_listener(seen.append)
        mgr.submit("hold", gate.task, owner="x")
        gate.wait_started()
        queued = mgr.submit("waits", noop, owner="y")
        assert queued.queue_position == 1  # what submit returns is read as it stands
        (event,) = [snap for snap in seen if snap.id == "waits"]
        assert event.status is TaskStatus.INIT and event.queue_position is None
        assert mgr.get_result("waits", owner="y").queue_position == 1
        gate.release.set()
