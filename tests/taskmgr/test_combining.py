"""CombiningLock: items handed in are settled exactly once, by some holder, never stranded."""

from __future__ import annotations

import threading

import pytest

from taskmgr import AsyncTaskManager, TaskContext, TaskSnapshot, TaskStatus
from taskmgr.combining import CombiningLock
from tests.support.wait import wait_until
from tests.taskmgr.conftest import WAIT_S, noop


class _Ledger:
    """A settle function that records what it settled and on which thread."""

    def __init__(self) -> None:
        self.settled: list[int] = []
        self.threads: list[str] = []

    def __call__(self, items: list[int]) -> None:
        self.settled.extend(items)
        self.threads.extend(threading.current_thread().name for _ in items)


def test_an_item_handed_in_to_a_free_lock_is_settled_at_once_by_its_thread() -> None:
    ledger = _Ledger()
    lock = CombiningLock(ledger)
    lock.hand_in(1)
    assert ledger.settled == [1]
    assert ledger.threads == [threading.current_thread().name]
    assert not lock.locked()


def test_an_item_handed_in_while_the_lock_is_held_is_settled_by_the_holder() -> None:
    ledger = _Ledger()
    lock = CombiningLock(ledger)
    handed = threading.Event()

    def hand_in() -> None:
        lock.hand_in(7)  # must return at once although the lock is taken
        handed.set()

    with lock:
        other = threading.Thread(target=hand_in, name="hander")
        other.start()
        assert handed.wait(WAIT_S), "hand_in waited for the lock"
        assert ledger.settled == []
    assert ledger.settled == [7]
    assert ledger.threads == [threading.current_thread().name]
    other.join(WAIT_S)


def test_a_condition_on_the_lock_settles_items_as_its_wait_lets_the_lock_go() -> None:
    ledger = _Ledger()
    lock = CombiningLock(ledger)
    changed = threading.Condition(lock)  # type: ignore[arg-type]
    with lock:
        threading.Thread(target=lock.hand_in, args=(3,)).start()
        wait_until(lambda: lock._handed_in, message="the item to be handed in")
        assert not changed.wait(0.01)  # nobody notifies: the wait times out...
        assert ledger.settled == [3]  # ...but letting the lock go settled the item
    assert not lock.locked()


def test_the_lock_is_let_go_even_when_settling_raises() -> None:
    def settle(items: list[int]) -> None:
        raise RuntimeError("settling failed")

    lock = CombiningLock(settle)
    with pytest.raises(RuntimeError, match="settling failed"), lock:
        hander = threading.Thread(target=lock.hand_in, args=(1,))
        hander.start()
        hander.join(WAIT_S)
    assert not lock.locked()


def test_many_threads_handing_in_under_contention_settle_every_item_exactly_once() -> None:
    ledger = _Ledger()
    lock = CombiningLock(ledger)
    threads_n, per_thread = 8, 2_000
    start = threading.Barrier(threads_n + 1)

    def hander(base: int) -> None:
        start.wait(WAIT_S)
        for i in range(per_thread):
            lock.hand_in(base + i)

    def holder() -> None:
        start.wait(WAIT_S)
        for _ in range(per_thread):
            with lock:
                pass

    threads = [threading.Thread(target=hander, args=(n * per_thread,)) for n in range(threads_n)]
    threads[-1] = threading.Thread(target=holder)  # one thread only takes the lock
    for thread in threads:
        thread.start()
    start.wait(WAIT_S)
    for thread in threads:
        thread.join(WAIT_S)
    expected = sorted(n * per_thread + i for n in range(threads_n - 1) for i in range(per_thread))
    assert sorted(ledger.settled) == expected
    assert not lock._handed_in and not lock.locked()


# -- in the manager ---------------------------------------------------------------------


def test_a_task_finishing_while_a_script_holds_the_lock_is_settled_on_release() -> None:
    """The script thread settles it, but the task's worker tells the listeners: a script
    thread never runs listeners for another task's end (a slow one would block a rerun)."""
    told: list[str] = []
    release = threading.Event()

    def listener(snap: TaskSnapshot) -> None:
        if snap.id == "t" and snap.status is TaskStatus.SUCCESS:
            told.append(threading.current_thread().name)

    def task(ctx: TaskContext) -> str:
        assert release.wait(WAIT_S)
        return "done"

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.add_listener(listener)
        mgr.submit("t", task)
        with mgr._lock:  # as a script's get_result would, at the wrong moment
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
            assert mgr._tasks[None]["t"].status is TaskStatus.IN_PROGRESS
        assert mgr.get_result("t").status is TaskStatus.SUCCESS  # settled on the release
        wait_until(lambda: told, message="the SUCCESS event")
        mgr.submit("u", noop, {"value": 2})  # the worker goes on taking tasks
        assert mgr.join("u", timeout=WAIT_S).result == 2
    assert told == [told[0]] and told[0] != threading.current_thread().name


def test_a_join_that_holds_the_lock_when_a_task_is_handed_in_still_returns() -> None:
    """The Condition's wait lets the lock go without looking at handed-in tasks; the
    manager settles them first, or a join could wait for a task already finished."""
    with AsyncTaskManager(max_workers=1) as mgr:
        release = threading.Event()

        def task(ctx: TaskContext) -> str:
            assert release.wait(WAIT_S)
            return "done"

        mgr.submit("t", task)
        with mgr._lock:
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
            woken = mgr._wait_for_change_locked(WAIT_S)
            assert mgr._tasks[None]["t"].status is TaskStatus.SUCCESS
    assert woken, "the wait slept through a change that had already happened"
