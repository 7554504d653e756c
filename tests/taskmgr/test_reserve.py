"""The default reserve: one owner never holds every worker; the global queue cap."""

from __future__ import annotations

import threading

import pytest

from taskmgr import AsyncTaskManager, QueueFull, TaskContext, TaskStatus
from taskmgr.manager import default_reserve
from tests.taskmgr.conftest import WAIT_S, Gate


@pytest.mark.parametrize(
    ("workers", "reserve"), [(1, 0), (2, 1), (3, 1), (4, 1), (8, 2), (9, 2), (16, 4)]
)
def test_the_reserve_is_a_quarter_of_the_workers_and_at_least_one(
    workers: int, reserve: int
) -> None:
    assert default_reserve(workers) == reserve


def test_a_second_owners_task_runs_while_the_first_has_fifty_long_ones_queued(
    gate: Gate,
) -> None:
    newcomer_started = threading.Event()

    def newcomer(ctx: TaskContext) -> str:
        newcomer_started.set()
        return "ran"

    with AsyncTaskManager() as mgr:  # the defaults: 8 workers, no cap per owner
        for n in range(50):
            mgr.submit(n, gate.task, owner="alice")
        gate.wait_started(6)
        assert mgr.stats().per_owner["alice"].running == 6  # 8 minus the reserve of 2

        snap = mgr.submit("mine", newcomer, owner="bob")

        assert snap.status is TaskStatus.IN_PROGRESS
        assert newcomer_started.wait(WAIT_S)
        assert mgr.join("mine", owner="bob", timeout=WAIT_S).result == "ran"
        alice = mgr.stats().per_owner["alice"]
        assert (alice.running, alice.queued) == (6, 44)
        gate.release.set()


def test_a_busy_owner_takes_no_worker_from_the_reserve(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=4) as mgr:  # reserve 1
        for n in range(5):
            mgr.submit(n, gate.task, owner="alice")
        gate.wait_started(3)
        mgr.submit("b1", gate.task, owner="bob")  # bob had nothing running: the reserve
        mgr.submit("b2", gate.task, owner="bob")
        gate.wait_started(1)
        stats = mgr.stats()
        assert (stats.per_owner["alice"].running, stats.per_owner["bob"].running) == (3, 1)
        assert stats.queued == 3

        mgr.cancel(0, owner="alice")  # a worker comes free: it is the reserve again
        assert mgr.join(0, owner="alice", timeout=WAIT_S).status is TaskStatus.CANCELLED
        stats = mgr.stats()
        assert (stats.running, stats.queued) == (3, 3)
        assert mgr.submit("c", gate.task, owner="carol").status is TaskStatus.IN_PROGRESS
        gate.release.set()


def test_an_explicit_cap_replaces_the_reserve(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=4, max_running_per_owner=4) as mgr:
        assert mgr.reserve == 0
        for n in range(4):
            mgr.submit(n, gate.task, owner="alice")
        gate.wait_started(4)
        assert mgr.stats().per_owner["alice"].running == 4
        gate.release.set()


def test_the_global_queue_cap_refuses_with_a_message_naming_it(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1, max_queued=3) as mgr:
        mgr.submit("running", gate.task, owner="a")
        gate.wait_started()
        for owner, n in (("a", 1), ("b", 2), ("c", 3)):
            mgr.submit(n, gate.task, owner=owner)
        with pytest.raises(QueueFull, match=r"3 tasks waiting \(max_queued=3\)"):
            mgr.submit("late", gate.task, owner="d")
        mgr.submit(1, gate.task, owner="a")  # replacing a queued task adds none
        assert mgr.stats().queued == 3
        gate.release.set()


def test_the_global_queue_cap_must_be_a_positive_whole_number() -> None:
    with pytest.raises(ValueError, match="max_queued"):
        AsyncTaskManager(max_queued=0)
