"""The change feed: each changed task's latest state, built when its reader takes it."""

from __future__ import annotations

import threading

from taskmgr import AsyncTaskManager, ChangeFeed, TaskContext, TaskStatus
from tests.support.wait import wait_until

from .conftest import WAIT_S, Gate, noop


def _reporter(ctx: TaskContext, reports: int) -> str:
    for step in range(1, reports + 1):
        ctx.report(progress=step / reports, message=f"step {step}", data=step)
    return "done"


def test_a_task_that_changed_many_times_is_taken_once_in_its_latest_state(
    manager: AsyncTaskManager,
) -> None:
    feed = manager.change_feed()
    manager.submit("r", _reporter, {"reports": 200})
    manager.join("r", timeout=WAIT_S)
    taken = feed.take()
    assert [(snap.id, snap.status, snap.data, snap.result) for snap in taken] == [
        ("r", TaskStatus.SUCCESS, 200, "done")
    ]
    assert feed.take() == []
    feed.close()


def test_a_new_feed_starts_with_every_task_there_is(manager: AsyncTaskManager) -> None:
    gate = Gate()
    manager.submit("done", noop, {"value": 1})
    manager.join("done", timeout=WAIT_S)
    manager.submit("running", gate.task)
    assert gate.started.acquire(timeout=WAIT_S)
    try:
        feed = manager.change_feed()
        statuses = {snap.id: snap.status for snap in feed.take()}
        assert statuses == {"done": TaskStatus.SUCCESS, "running": TaskStatus.IN_PROGRESS}
        feed.close()
    finally:
        gate.release.set()


def test_the_event_is_set_by_the_first_change_after_a_take(manager: AsyncTaskManager) -> None:
    wake = threading.Event()
    feed = manager.change_feed(wake)
    feed.take()
    wake.clear()
    manager.submit("a", noop)
    assert wake.wait(WAIT_S)
    manager.join("a", timeout=WAIT_S)
    assert feed.pending() == 1
    assert [snap.status for snap in feed.take()] == [TaskStatus.SUCCESS]
    feed.close()


def test_the_event_is_set_only_once_the_change_is_there_to_take(
    manager: AsyncTaskManager,
) -> None:
    """A reader woken by the event looks for changes; finding none, it sleeps again, and
    the changes after that one would never wake it (the feed is no longer empty)."""
    pending_when_set: list[int] = []
    feed: ChangeFeed | None = None

    class Watched(threading.Event):
        def set(self) -> None:
            assert feed is not None
            pending_when_set.append(feed.pending())
            super().set()

    feed = manager.change_feed(Watched())
    for i in range(3):
        feed.take()
        manager.submit(i, noop)
        manager.join(i, timeout=WAIT_S)
    assert len(pending_when_set) >= 3
    assert all(pending_when_set), pending_when_set
    feed.close()


def test_a_task_replaced_by_a_resubmission_is_not_taken_over_its_successor(
    manager: AsyncTaskManager,
) -> None:
    """The old task ends (CANCELLED) after its successor's latest change, so its snapshot
    has the higher version: a reader that keeps each id's highest version would show
    the id as the old task's."""
    feed = manager.change_feed()
    old, new = Gate(), Gate()
    manager.submit("a", old.stubborn)
    old.wait_started()  # noted IN_PROGRESS, not taken yet
    manager.submit("a", new.task)
    new.wait_started()
    old.release.set()
    wait_until(lambda: manager.stats().running == 1, WAIT_S, message="the old task's end")
    try:
        taken = [(snap.id, snap.status) for snap in feed.take()]
        assert taken == [("a", TaskStatus.IN_PROGRESS)]
    finally:
        new.release.set()
    manager.join("a", timeout=WAIT_S)
    feed.close()


def test_take_builds_at_most_limit_snapshots_first_changed_first(
    manager: AsyncTaskManager,
) -> None:
    feed = manager.change_feed()
    for i in range(5):
        manager.submit(i, noop)
    for i in range(5):
        manager.join(i, timeout=WAIT_S)
    assert [snap.id for snap in feed.take(limit=2)] == [0, 1]
    assert [snap.id for snap in feed.take(limit=10)] == [2, 3, 4]
    feed.close()


def test_a_task_forgotten_before_the_take_still_gives_its_final_state() -> None:
    with AsyncTaskManager(max_workers=1, max_results=1) as mgr:
        feed = mgr.change_feed()
        for i in range(3):
            mgr.submit(i, noop, {"value": i})
            mgr.join(i, timeout=WAIT_S)
        assert [task.id for task in mgr.list_all_tasks()] == [2]  # 0 and 1 were forgotten
        taken = {snap.id: (snap.status, snap.result) for snap in feed.take()}
        assert taken == {i: (TaskStatus.SUCCESS, i) for i in range(3)}
        feed.close()


def test_a_closed_feed_notes_nothing(manager: AsyncTaskManager) -> None:
    wake = threading.Event()
    feed = manager.change_feed(wake)
    feed.close()
    wake.clear()
    manager.submit("a", noop)
    manager.join("a", timeout=WAIT_S)
    assert feed.pending() == 0 and feed.take() == [] and not wake.is_set()
