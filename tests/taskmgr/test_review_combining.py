"""Review of the combining hand-in (taskmgr/combining.py, AsyncTaskManager._work and
_settle_handed_in).

A docstring starting with "BUG:" describes a defect the review found (now fixed; the test
guards against its return); the others pin down behaviour of the hand-in path that the rest
of the suite does not reach.
"""

from __future__ import annotations

import contextlib
import gc
import random
import sys
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import taskmgr.deadlines as deadlines_module
import taskmgr.execution as execution_module
from taskmgr import (
    AsyncTaskManager,
    TaskContext,
    TaskSnapshot,
    TaskStatus,
    UnknownTask,
)
from taskmgr.deadlines import DeadlineTimer
from tests.support.wait import wait_until
from tests.taskmgr.conftest import WAIT_S, Gate, noop, start_shutdown

#: How long to wait for something that, without the bug, happens at once.
SHORT_WAIT_S = 4.0


class _Big:
    """Stands for a large result; weakly referenceable so a test can see it die."""


class _DaemonRunner:
    """Runs each unit of work on its own daemon thread (a TaskRunner).

    A worker that a bug strands for ever then cannot hang pytest's exit, as a stranded
    ThreadPoolExecutor thread would. ``shutdown(wait=False)`` can be told to fail, as a remote
    backend behind the runner seam may.
    """

    def __init__(self, max_workers: int, *, failing_shutdown: bool = False) -> None:
        self.max_workers = max_workers
        self.failing_shutdown = failing_shutdown

    def start(self, work: Callable[[], None]) -> None:
        threading.Thread(target=work, name="review-worker", daemon=True).start()

    def shutdown(self, wait: bool) -> None:
        if self.failing_shutdown and not wait:
            raise RuntimeError("the backend could not be reached to release its workers")


class _HandInAsItWaits:
    """Stands in for the manager's Condition and runs ``before`` once, just before the first
    wait lets the lock go: what a thread switch between settle_locked() and the wait does."""

    def __init__(self, inner: Any, before: Callable[[], None]) -> None:
        self._inner = inner
        self._before: Callable[[], None] | None = before

    def wait(self, timeout: float | None = None) -> bool:
        before, self._before = self._before, None
        if before is not None:
            before()
        return bool(self._inner.wait(timeout))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _task_released_by(release: threading.Event) -> Callable[[TaskContext], str]:
    """A task that waits for ``release`` without touching the manager (ctx.sleep would take
    its lock once, to make the cancel event, and block on a test that holds it)."""

    def task(ctx: TaskContext) -> str:
        assert release.wait(WAIT_S)
        return "done"

    return task


def _finish_as_the_waiter_waits(mgr: AsyncTaskManager, release: threading.Event) -> None:
    """Make the manager's next Condition wait begin only once the running task was handed in."""

    def finish_and_hand_in() -> None:
        release.set()  # the task returns; its worker finds the lock taken (by this thread)
        wait_until(
            lambda: mgr._lock._handed_in,
            timeout=WAIT_S,
            interval=0.001,
            message="the worker to hand its task in",
        )

    mgr._changed = _HandInAsItWaits(mgr._changed, finish_and_hand_in)  # type: ignore[assignment]


# -- regressions: bugs of the reviewed commit, fixed while this review ran -----------------


def test_join_returns_when_its_task_is_handed_in_just_as_the_join_starts_waiting() -> None:
    """A worker hands its task in just as a join starts its Condition wait: the wait's release
    of the lock settles it, so join returns at once. (Broken in the reviewed commit: the wait
    let the raw lock go after an earlier settle_locked(), the item was stranded, join slept its
    whole timeout; seen 10 times in ~195,000 submit+join rounds at switchinterval 1e-6.
    _HandInAsItWaits only widens that window.)"""
    release = threading.Event()
    mgr = AsyncTaskManager(max_workers=1, runner=_DaemonRunner(1))
    try:
        mgr.submit("t", _task_released_by(release))
        _finish_as_the_waiter_waits(mgr, release)
        began = time.monotonic()
        try:
            final: TaskSnapshot | None = mgr.join("t", timeout=SHORT_WAIT_S)
        except TimeoutError:
            final = None
        waited = time.monotonic() - began
    finally:
        release.set()
        with mgr._lock:  # settles a stranded hand-in, if any
            pass
        mgr.shutdown(wait=True)
    assert final is not None, (
        f"join slept {waited:.1f} s and timed out though the task had returned and was handed in"
    )
    assert final.status is TaskStatus.SUCCESS and final.result == "done"


def test_shutdown_wait_returns_when_the_last_task_is_handed_in_just_as_it_starts_waiting() -> None:
    """As above through shutdown(wait=True), which waits on the same Condition: the last task,
    handed in just as it starts waiting, is settled and shutdown returns. (Reviewed commit:
    it hung for ever with every worker idle.)"""
    release = threading.Event()

    mgr = AsyncTaskManager(max_workers=1, runner=_DaemonRunner(1))
    mgr.submit("t", _task_released_by(release))
    _finish_as_the_waiter_waits(mgr, release)

    shutting = start_shutdown(mgr, cancel=False)
    shutting.join(SHORT_WAIT_S)
    returned = not shutting.is_alive()
    if not returned:
        with mgr._lock:  # rescue: settling the stranded task lets shutdown finish
            pass
    shutting.join(WAIT_S)
    assert returned, "shutdown(wait=True) hung: the last task's hand-in was never settled"
    assert mgr.get_result("t").status is TaskStatus.SUCCESS


def test_a_runner_error_while_settling_loses_no_final_event() -> None:
    """A runner whose shutdown raises, called by _release_runner_if_drained_locked inside a
    settle after shutdown(wait=False): the last task's final event still reaches listeners.
    (Reviewed commit: the error escaped _make_final_locked before _note_locked, losing the
    event and killing the settling worker.)"""
    finals: list[TaskSnapshot] = []

    def listener(snap: TaskSnapshot) -> None:
        if snap.status.is_final:
            finals.append(snap)

    mgr = AsyncTaskManager(max_workers=1, runner=_DaemonRunner(1, failing_shutdown=True))
    release = threading.Event()
    mgr.add_listener(listener)
    mgr.submit("t", _task_released_by(release))
    mgr.shutdown(wait=False, cancel=False)  # the runner is released once "t" ends
    release.set()
    assert mgr.join("t", timeout=WAIT_S).status is TaskStatus.SUCCESS
    with contextlib.suppress(AssertionError):
        wait_until(lambda: finals, timeout=SHORT_WAIT_S, interval=0.01)
    assert [(s.id, s.status) for s in finals] == [("t", TaskStatus.SUCCESS)]


def test_a_runner_error_while_a_script_thread_settles_leaves_the_lock_free() -> None:
    """The same runner error while a script thread settles someone else's task on leaving the
    lock: nothing escapes into that unrelated call and the lock is free afterwards. (Reviewed
    commit: the error leaked into the caller and the lock stayed taken: total deadlock.)"""
    release = threading.Event()
    mgr = AsyncTaskManager(max_workers=1, runner=_DaemonRunner(1, failing_shutdown=True))
    mgr.submit("t", _task_released_by(release))
    mgr.shutdown(wait=False, cancel=False)
    leaked: BaseException | None = None
    try:
        with mgr._lock:  # as a script's get_result would, at the wrong moment
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
    except RuntimeError as exc:
        leaked = exc
    free = mgr._lock.acquire(timeout=SHORT_WAIT_S)
    mgr._lock.release()  # ours, or the one the failed settle left taken
    assert free, "the manager's lock stayed taken after a settle failed on a script thread"
    assert leaked is None, f"the runner's error escaped into an unrelated caller: {leaked!r}"


def test_a_lingering_worker_keeps_no_evicted_result_alive(
    gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker lingering for a handoff keeps no reference to the task it just finished, so an
    evicted result dies at once. (Reviewed commit: _work's `record = self._turn(record, ...)`
    kept it bound, and _turn's `events` its snapshots, for the whole linger.) LINGER_S is
    raised so the test does not race the linger."""
    monkeypatch.setattr(execution_module, "LINGER_S", WAIT_S)
    refs: list[weakref.ref[_Big]] = []

    def produce(ctx: TaskContext) -> _Big:
        big = _Big()
        refs.append(weakref.ref(big))
        return big

    with AsyncTaskManager(max_workers=2, max_running_per_owner=1, max_results=1) as mgr:
        mgr.submit("hold", gate.task, owner="a")
        gate.wait_started()
        mgr.submit("big", produce, owner="b")
        status = mgr.join("big", owner="b", timeout=WAIT_S).status
        assert status is TaskStatus.SUCCESS
        wait_until(lambda: len(mgr._idle) == 1, message="big's worker to linger")
        mgr.submit("x", noop, owner="a")  # queued: owner "a" is at its cap
        assert mgr.cancel("x", owner="a")  # a newer final result: max_results=1 evicts "big"
        with pytest.raises(UnknownTask):
            mgr.get_result("big", owner="b")
        gc.collect()
        alive = refs[0]() is not None
        gate.release.set()
    assert not alive, "an evicted result is still reachable from its lingering worker"


# -- bugs ---------------------------------------------------------------------------------


class _ThreadingWithFailingStarts:
    """The ``threading`` module as deadlines.py sees it, except that the next ``failures``
    Thread.start() calls raise as CPython does when no thread can be created."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        shim = self

        class Thread(threading.Thread):
            def start(self) -> None:
                if shim.failures > 0:
                    shim.failures -= 1
                    raise RuntimeError("can't start new thread")
                super().start()

        self.Thread = Thread

    def __getattr__(self, name: str) -> Any:
        return getattr(threading, name)


def test_a_timeout_that_cannot_be_scheduled_while_settling_strands_no_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BUG: manager.py _start_locked marks the task IN_PROGRESS and counts it in _running,
    then calls DeadlineTimer.schedule, which starts the timer thread on first use and lets
    Thread.start's RuntimeError ("can't start new thread") out. Called from
    _settle_handed_in for the worker's next task, the error leaves that task IN_PROGRESS on no
    worker for ever (its slot lost, shutdown(wait=True) hangs), skips every later item of the
    batch (tasks never finished, final events lost; a worker whose task came by handoff then
    blocks for ever on `wake` in _linger, since worker.task was never cleared), and escapes
    into whichever thread settled: a worker (it dies), a script's `with` (its unrelated call
    raises) or a Condition wait's release (join leaves `with` on a lock it no longer holds)."""
    release = threading.Event()
    mgr = AsyncTaskManager(max_workers=1, runner=_DaemonRunner(1))
    try:
        mgr.submit("first", _task_released_by(release))  # no timeout: no timer thread yet
        mgr.submit("second", noop, {"value": 2}, timeout_s=60)  # queued behind it
        monkeypatch.setattr(deadlines_module, "threading", _ThreadingWithFailingStarts(1))
        release.set()  # "first" is settled; "second" starts and its deadline can't be set
        try:
            second: TaskSnapshot | None = mgr.join("second", timeout=SHORT_WAIT_S)
        except TimeoutError:
            second = None
        assert second is not None, (
            f"'second' is stuck {mgr.get_result('second').status.name} on no worker"
        )
        mgr.submit("third", noop, {"value": 3})
        assert mgr.join("third", timeout=WAIT_S).result == 3
    finally:
        mgr.shutdown(wait=False)


def test_a_deadline_thread_that_failed_to_start_is_started_by_the_next_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BUG: deadlines.py DeadlineTimer.schedule assigns self._thread before calling its
    start(); if start raises ("can't start new thread", once, under load), _thread stays set to
    a thread that never ran and no later schedule starts one: no timeout of that manager ever
    fires again, silently (tasks with timeout_s run for ever)."""
    timer = DeadlineTimer()
    monkeypatch.setattr(deadlines_module, "threading", _ThreadingWithFailingStarts(1))
    try:
        with contextlib.suppress(RuntimeError):
            timer.schedule(0.01, lambda: None)
        fired = threading.Event()
        timer.schedule(0.01, fired.set)
        assert fired.wait(SHORT_WAIT_S), "a deadline never fired after one failed thread start"
    finally:
        timer.close()


# -- the hand-in path, passing --------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("switch_s", [None, 1e-5], ids=["default-switch", "fast-switch"])
def test_under_churn_each_task_runs_once_within_caps_and_tells_its_end_once_from_a_worker(
    switch_s: float | None,
) -> None:
    """Many owners' short tasks, some reporting, some cancelled at once, while a script thread
    hammers the lock (so it often settles hand-ins), optionally with a tiny GIL switch
    interval: each function runs at most once, never more than max_workers at once nor more
    than max_running_per_owner per owner; every task's final event reaches the listener
    exactly once, from a worker unless the task was cancelled while queued, never from the
    script thread; each report of a task that succeeded reaches it exactly once."""
    owners = [f"o{i}" for i in range(6)]
    per_owner, max_workers, cap = 400, 4, 2
    total = len(owners) * per_owner
    book = threading.Lock()
    runs: Counter[tuple[str, int]] = Counter()
    finals: Counter[tuple[Any, Any]] = Counter()
    ends: dict[tuple[Any, Any], tuple[TaskStatus, str, bool]] = {}
    reports: Counter[tuple[Any, Any]] = Counter()
    running = Counter[str]()
    peak = {"all": 0, "owner": 0}
    errors: list[BaseException] = []

    def work(ctx: TaskContext, owner: str, n: int) -> int:
        with book:
            runs[(owner, n)] += 1
            running[owner] += 1
            peak["all"] = max(peak["all"], sum(running.values()))
            peak["owner"] = max(peak["owner"], running[owner])
        try:
            if n % 3 == 0:
                ctx.report(progress=0.5, message="half")
            return n
        finally:
            with book:
                running[owner] -= 1

    def listener(snap: TaskSnapshot) -> None:
        key = (snap.owner, snap.id)
        with book:
            if snap.status.is_final:
                finals[key] += 1
                ran = snap.started_at is not None
                ends[key] = (snap.status, threading.current_thread().name, ran)
            elif snap.message == "half" and snap.status is TaskStatus.IN_PROGRESS:
                reports[key] += 1

    stop = threading.Event()
    old_switch = sys.getswitchinterval()
    mgr = AsyncTaskManager(
        max_workers=max_workers, max_running_per_owner=cap, max_queued_per_owner=1000
    )
    mgr.add_listener(listener)
    rng = random.Random(7)

    def hammer() -> None:
        try:
            while not stop.is_set():
                with contextlib.suppress(UnknownTask):
                    mgr.get_result(rng.randrange(per_owner), owner=rng.choice(owners))
                stats = mgr.stats()
                assert stats.running <= max_workers
                assert all(s.running <= cap for s in stats.per_owner.values())
        except BaseException as exc:
            errors.append(exc)

    script = threading.Thread(target=hammer, name="script")
    try:
        if switch_s is not None:
            sys.setswitchinterval(switch_s)
        script.start()
        for n in range(per_owner):
            for owner in owners:
                mgr.submit(n, work, {"owner": owner, "n": n}, owner=owner)
                if n % 7 == 0:
                    mgr.cancel(n, owner=owner)
        # Polled, not joined: the reviewed commit could strand a join (see the regressions).
        wait_until(lambda: len(finals) >= total, message=lambda: f"{len(finals)} final events")
    finally:
        sys.setswitchinterval(old_switch)
        stop.set()
        if script.is_alive():
            script.join(WAIT_S)
        mgr.shutdown(wait=True)
    assert not errors, errors
    assert set(runs.values()) == {1}
    assert peak["all"] <= max_workers and peak["owner"] <= cap, peak
    assert set(finals.values()) == {1} and len(finals) == total
    for (owner, n), (status, thread, ran) in ends.items():
        assert thread != "script", (owner, n, status)
        if ran:
            assert thread.startswith("taskmgr"), (owner, n, status, thread)
        if status is TaskStatus.SUCCESS:
            assert n % 7 != 0 or ran, (owner, n)
            assert reports[(owner, n)] == (1 if n % 3 == 0 else 0), (owner, n)


def test_shutdown_with_cancel_under_load_gives_every_task_one_final_event() -> None:
    """shutdown(wait=True, cancel=True) in the middle of a stream of hand-ins: it returns,
    every task submitted before it is final, and each produced exactly one final event (queued
    ones from shutdown's cancel, running ones from their worker's settle)."""
    book = threading.Lock()
    finals: Counter[tuple[Any, Any]] = Counter()
    runs: Counter[tuple[Any, Any]] = Counter()

    def work(ctx: TaskContext) -> None:
        with book:
            runs[(ctx.owner, ctx.task_id)] += 1
        ctx.report(progress=0.5)
        ctx.sleep(0.001)

    def listener(snap: TaskSnapshot) -> None:
        if snap.status.is_final:
            with book:
                finals[(snap.owner, snap.id)] += 1

    mgr = AsyncTaskManager(max_workers=4, max_running_per_owner=2, max_queued_per_owner=1000)
    mgr.add_listener(listener)
    keys = [(f"o{i % 5}", i) for i in range(600)]
    for owner, n in keys:
        mgr.submit(n, work, owner=owner)
    wait_until(lambda: sum(finals.values()) >= 50, message="some tasks to finish")
    shutting = start_shutdown(mgr)
    shutting.join(WAIT_S)
    assert not shutting.is_alive(), "shutdown did not return"
    assert all(snap.status.is_final for snap in mgr.list_all_tasks())
    assert set(finals) == set(keys) and set(finals.values()) == {1}
    assert set(runs.values()) <= {1}
    assert mgr._idle == [] and mgr._running == set() and not mgr._lock._handed_in


def test_a_task_that_returned_before_its_deadline_but_is_settled_after_it_did_not_time_out() -> (
    None
):
    """The deadline fires while the task's hand-in waits for the lock's holder; the holder
    settles it before letting the lock go, so _on_timeout finds it final: SUCCESS, its result,
    no "timed out" message."""
    release = threading.Event()
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("t", _task_released_by(release), timeout_s=0.2)
        with mgr._lock:
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
            # Fired (the timer marks a due deadline done before calling it): _on_timeout now
            # waits for this lock. Nothing else can cancel it: that takes the lock too.
            wait_until(lambda: mgr._deadlines.pending() == 0, message="the deadline to fire")
        final = mgr.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.SUCCESS and final.result == "done"
    assert final.message is None


def test_cancel_arriving_while_a_hand_in_waits_finds_the_task_final() -> None:
    """A cancel queued on the lock behind a holder, while the task's hand-in waits: the holder
    settles the task before the cancel gets the lock, so cancel answers False and the task
    keeps its SUCCESS."""
    release = threading.Event()
    answers: list[bool] = []

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("t", _task_released_by(release))
        canceller = threading.Thread(target=lambda: answers.append(mgr.cancel("t")))
        with mgr._lock:
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
            canceller.start()
        canceller.join(WAIT_S)
        final = mgr.get_result("t")
    assert answers == [False]
    assert final.status is TaskStatus.SUCCESS and final.result == "done"


def test_a_join_that_settles_a_task_leaves_its_final_event_to_the_worker() -> None:
    """A joiner that finds a hand-in waiting settles it before its Condition wait; the final
    event still goes to the task's worker, not to the joining (script) thread."""
    release = threading.Event()
    told: list[str] = []

    def listener(snap: TaskSnapshot) -> None:
        if snap.id == "t" and snap.status.is_final:
            told.append(threading.current_thread().name)

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.add_listener(listener)
        mgr.submit("t", _task_released_by(release))
        with mgr._lock:
            release.set()
            wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
            mgr._wait_for_change_locked(WAIT_S)  # as join does: settles, returns at once
            assert mgr._tasks[None]["t"].status is TaskStatus.SUCCESS
        wait_until(lambda: told, message="the final event")
    assert len(told) == 1 and told[0] != threading.current_thread().name


def test_after_shutdown_without_wait_a_last_task_settled_by_a_script_frees_runner_and_worker() -> (
    None
):
    """shutdown(wait=False, cancel=False) with one task running; its hand-in is settled by a
    script thread on leaving the lock: the runner is released there, the worker still emits
    the final event itself and its thread ends (no linger on a closed manager)."""
    release = threading.Event()
    told: list[str] = []

    def listener(snap: TaskSnapshot) -> None:
        if snap.status.is_final:
            told.append(threading.current_thread().name)

    mgr = AsyncTaskManager(max_workers=1)
    mgr.add_listener(listener)
    mgr.submit("t", _task_released_by(release))
    mgr.shutdown(wait=False, cancel=False)
    with mgr._lock:
        release.set()
        wait_until(lambda: mgr._lock._handed_in, message="the worker to hand its task in")
    assert mgr._runner_released
    assert mgr.get_result("t").status is TaskStatus.SUCCESS
    wait_until(lambda: told, message="the final event")
    assert len(told) == 1 and told[0].startswith("taskmgr")
    threads = list(mgr._runner._executor._threads)  # type: ignore[attr-defined]
    wait_until(lambda: not any(t.is_alive() for t in threads), message="the worker to end")


def test_many_joiners_return_as_their_tasks_are_handed_in_in_random_order() -> None:
    """Twelve threads join twelve tasks (three workers, nine queued) that finish in a random
    order: every join returns its own task's result, none waits out its timeout."""
    count = 12
    releases = [threading.Event() for _ in range(count)]
    results: dict[int, Any] = {}

    def task(ctx: TaskContext, n: int) -> int:
        assert releases[n].wait(WAIT_S)
        return n * 10

    with AsyncTaskManager(max_workers=3) as mgr:
        for n in range(count):
            mgr.submit(n, task, {"n": n})

        def joiner(n: int) -> None:
            try:
                results[n] = mgr.join(n, timeout=WAIT_S).result
            except BaseException as exc:
                results[n] = exc

        threads = [threading.Thread(target=joiner, args=(n,)) for n in range(count)]
        for thread in threads:
            thread.start()
        wait_until(lambda: mgr._joiners == count, message="every joiner to wait")
        order = list(range(count))
        random.Random(3).shuffle(order)
        for n in order:
            releases[n].set()
        for thread in threads:
            thread.join(WAIT_S)
    assert results == {n: n * 10 for n in range(count)}


def test_resubmitting_one_id_while_it_hands_in_runs_each_submission_at_most_once() -> None:
    """One id resubmitted 300 times while its earlier tasks finish and hand in: no function
    runs twice, the id ends with the last submission's result, and no submission produces
    more than one final event."""
    book = threading.Lock()
    runs: Counter[int] = Counter()
    finals: Counter[Any] = Counter()

    def work(ctx: TaskContext, n: int) -> int:
        with book:
            runs[n] += 1
        return n

    def listener(snap: TaskSnapshot) -> None:
        if snap.status.is_final:
            with book:
                finals[(snap.version, snap.result)] += 1

    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.add_listener(listener)
        for n in range(300):
            mgr.submit("same", work, {"n": n})
        final = mgr.join("same", timeout=WAIT_S)
        wait_until(
            lambda: any(result == 299 for _, result in finals), message="the last final event"
        )
    assert final.status is TaskStatus.SUCCESS and final.result == 299
    assert set(runs.values()) == {1}
    assert set(finals.values()) == {1}
    results = [result for _, result in finals]
    assert len(results) == len(set(results))
