"""list_tasks reads running tasks without the manager's lock, and stays exact while doing so."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from taskmgr import AsyncTaskManager, TaskContext, TaskSnapshot, TaskStatus
from tests.taskmgr.conftest import WAIT_S, Gate


def _read_while_the_lock_is_held(
    mgr: AsyncTaskManager, read: Callable[[], list[TaskSnapshot]]
) -> list[TaskSnapshot] | None:
    """What ``read`` returns on another thread while this one holds the manager's lock;
    None if it waited for the lock."""
    got: list[list[TaskSnapshot]] = []
    done = threading.Event()

    def reader() -> None:
        got.append(read())
        done.set()

    with mgr._lock:
        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        returned = done.wait(timeout=5)
    thread.join(WAIT_S)
    return got[0] if returned else None


def _reporter(started: threading.Event, go_on: threading.Event) -> Callable[..., Any]:
    def task(ctx: TaskContext) -> str:
        ctx.report(progress=0.5, message="halfway", data=[{"row": 1}])
        started.set()
        while not go_on.is_set():
            ctx.sleep(0.05)
        return "done"

    return task


def test_a_reported_running_task_is_listed_while_the_lock_is_held() -> None:
    started, go_on = threading.Event(), threading.Event()
    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.submit("t", _reporter(started, go_on), owner="a")
        assert started.wait(WAIT_S)
        listed = _read_while_the_lock_is_held(mgr, lambda: mgr.list_tasks("a"))
        go_on.set()
    assert listed is not None, "list_tasks waited for the manager's lock"
    (task,) = listed
    assert (task.status, task.progress, task.message, task.data) == (
        TaskStatus.IN_PROGRESS,
        0.5,
        "halfway",
        [{"row": 1}],
    )


def test_a_locked_read_publishes_so_the_next_read_needs_no_lock(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.submit("t", gate.task, owner="a")
        gate.wait_started()
        first = mgr.list_tasks("a")  # the task started since: this read takes the lock
        again = _read_while_the_lock_is_held(mgr, lambda: mgr.list_tasks("a"))
    assert again == first
    assert [task.status for task in first] == [TaskStatus.IN_PROGRESS]


def test_every_change_after_publishing_is_seen(gate: Gate) -> None:
    started, go_on = threading.Event(), threading.Event()
    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.submit("t", _reporter(started, go_on), owner="a")
        assert started.wait(WAIT_S)
        assert mgr.list_tasks("a")[0].status is TaskStatus.IN_PROGRESS
        mgr.cancel("t", owner="a")
        assert mgr.list_tasks("a")[0].status is TaskStatus.CANCELLING
        go_on.set()
        final = mgr.join("t", owner="a", timeout=WAIT_S)
        assert mgr.list_tasks("a") == [final]
        assert final.status is TaskStatus.CANCELLED


def test_queued_tasks_are_listed_with_their_place_in_line(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1, max_running_per_owner=1) as mgr:
        mgr.submit("running", gate.task, owner="a")
        gate.wait_started()
        mgr.submit("first", gate.task, owner="a")
        mgr.submit("second", gate.task, owner="a")
        listed = {task.id: task.queue_position for task in mgr.list_tasks("a")}
        mgr.cancel("first", owner="a")
        moved = {task.id: task.queue_position for task in mgr.list_tasks("a")}
    assert listed == {"running": None, "first": 1, "second": 2}
    assert moved == {"running": None, "first": None, "second": 1}
