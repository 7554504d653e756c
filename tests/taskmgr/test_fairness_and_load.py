from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter

import pytest

from taskmgr import (
    AsyncTaskManager,
    QueueFull,
    TaskContext,
    TaskSnapshot,
    TaskStatus,
    UnknownTask,
)

from .conftest import WAIT_S, Gate, noop


@pytest.mark.timeout(120)
def test_thousand_tasks_from_twenty_owners_all_finish_in_fair_order() -> None:
    owners = [f"owner{i}" for i in range(20)]
    release = threading.Event()
    start_versions: list[tuple[int, str]] = []
    lock = threading.Lock()

    def work(ctx: TaskContext, n: int) -> int:
        assert release.wait(WAIT_S)
        return n * n

    def on_change(snap: TaskSnapshot) -> None:
        if snap.status is TaskStatus.IN_PROGRESS:
            with lock:
                start_versions.append((snap.version, str(snap.owner)))

    # Every owner is busy, so no reserve: plain round-robin over all four workers.
    with AsyncTaskManager(max_workers=4, max_queued_per_owner=50, max_running_per_owner=4) as mgr:
        mgr.add_listener(on_change)
        barrier = threading.Barrier(len(owners))

        def submit_all(owner: str) -> None:
            barrier.wait()
            for n in range(50):
                mgr.submit(n, work, {"n": n}, owner=owner)

        threads = [threading.Thread(target=submit_all, args=(o,)) for o in owners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        release.set()
        for owner in owners:
            for n in range(50):
                final = mgr.join(n, owner=owner, timeout=WAIT_S)
                assert final.status is TaskStatus.SUCCESS and final.result == n * n
        stats = mgr.stats()
        assert (stats.running, stats.queued) == (0, 0)

    order = [owner for _, owner in sorted(start_versions)]
    assert len(order) == 1000
    # The first four starts took the free workers while others were still submitting; from
    # then on dispatch is round-robin: each start goes to an owner that has had the fewest
    # turns among those with work left.
    left = Counter({owner: 50 for owner in owners})
    left.subtract(order[:4])
    turns: Counter[str] = Counter()
    for owner in order[4:]:
        fewest = min(turns[o] for o in owners if left[o] > 0)
        assert turns[owner] == fewest, (owner, turns)
        turns[owner] += 1
        left[owner] -= 1


def test_a_greedy_owner_does_not_starve_a_late_one(gate: Gate) -> None:
    starts: list[tuple[int, object]] = []

    def on_change(snap: TaskSnapshot) -> None:
        if snap.status is TaskStatus.IN_PROGRESS:
            starts.append((snap.version, snap.id))

    with AsyncTaskManager(max_workers=1, max_queued_per_owner=100) as mgr:
        mgr.add_listener(on_change)
        mgr.submit("hold", gate.task, owner="greedy")
        gate.wait_started()
        for n in range(50):
            mgr.submit(n, noop, owner="greedy")
        late = mgr.submit("mine", noop, owner="late")
        assert late.queue_position == 1
        gate.release.set()
        mgr.shutdown(wait=True, cancel=False)
    order = [task_id for _, task_id in sorted(starts)]
    assert order[:3] == ["hold", "mine", 0]


def test_max_running_per_owner_caps_one_owners_share(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=4, max_running_per_owner=2) as mgr:
        for n in range(4):
            mgr.submit(n, gate.task, owner="a")
        gate.wait_started(2)
        mgr.submit("b", gate.task, owner="b")
        gate.wait_started(1)
        stats = mgr.stats()
        assert stats.per_owner["a"].running == 2
        assert stats.per_owner["a"].queued == 2
        assert stats.per_owner["b"].running == 1
        assert stats.running == 3  # a worker stays free rather than exceed a's cap
        gate.release.set()
        for n in range(4):
            assert mgr.join(n, owner="a", timeout=WAIT_S).status is TaskStatus.SUCCESS


@pytest.mark.timeout(120)
def test_concurrent_submit_cancel_and_get_from_many_threads_stay_consistent() -> None:
    def work(ctx: TaskContext, steps: int) -> int:
        for i in range(steps):
            ctx.report(progress=i / steps)
            ctx.sleep(0.001)
        return steps

    errors: list[BaseException] = []
    with AsyncTaskManager(max_workers=4, max_queued_per_owner=20) as mgr:

        def client(seed: int) -> None:
            rng = random.Random(seed)
            owner = f"o{seed % 5}"
            try:
                for _ in range(200):
                    task_id = rng.randrange(30)
                    action = rng.random()
                    if action < 0.5:
                        with contextlib.suppress(QueueFull):
                            mgr.submit(task_id, work, {"steps": rng.randrange(5)}, owner=owner)
                    elif action < 0.75:
                        mgr.cancel(task_id, owner=owner)
                    else:
                        try:
                            snap = mgr.get_result(task_id, owner=owner)
                            assert snap.owner == owner and snap.id == task_id
                        except UnknownTask:
                            pass
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(seed,)) for seed in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S * 2)
        assert not errors, errors
        for snap in mgr.list_all_tasks():
            final = mgr.join(snap.id, owner=snap.owner, timeout=WAIT_S)
            assert final.status.is_final
        stats = mgr.stats()
        assert (stats.running, stats.queued, stats.cancelling) == (0, 0, 0)
        assert sum(len(mgr.list_tasks(f"o{i}")) for i in range(5)) == len(mgr.list_all_tasks())
