"""Review of the task manager: races, leaks, contract edges and randomized stress.

Tests whose docstring starts with "BUG:" demonstrate a defect and fail until it is fixed;
the others cover paths the rest of the suite does not reach.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import random
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from taskmgr import (
    AsyncTaskManager,
    ManagerClosed,
    QueueFull,
    TaskCancelled,
    TaskContext,
    TaskSnapshot,
    TaskStatus,
    ThreadPoolRunner,
    UnknownTask,
)

from .conftest import WAIT_S, Gate, noop, start_shutdown

#: How long to wait for something that, without the bug, happens at once. Short enough
#: that a test demonstrating a hang fails in seconds, long enough for a noisy machine.
SHORT_WAIT_S = 5.0


class _Big:
    """Stands for a large object; weakly referenceable so a test can see it die."""


class _ScriptControl(BaseException):
    """Like Streamlit's StopException / RerunException: a BaseException, not an Exception."""


class _CountingRunner:
    """A ThreadPoolRunner that counts ``start`` calls and can be told to fail some."""

    def __init__(self, max_workers: int, failures: int = 0) -> None:
        self.max_workers = max_workers
        self.inner = ThreadPoolRunner(max_workers)
        self.starts = 0
        self.failures = failures

    def start(self, work: Callable[[], None]) -> None:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("can't start new thread")
        self.starts += 1
        self.inner.start(work)

    def shutdown(self, wait: bool) -> None:
        self.inner.shutdown(wait)


def _poll_until(predicate: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)  # ok: poll interval


# -- bugs -------------------------------------------------------------------------------


def test_report_racing_a_timeout_keeps_the_timed_out_message() -> None:
    """BUG: ctx.report checks for cancel (context.py, report -> check) and only then takes
    the manager's lock (manager.py, _publish), which never looks at cancel_requested. A
    timeout or cancel landing in between is overwritten: the task's message replaces "timed
    out after ...", and report returns instead of raising TaskCancelled.

    The progress value's __float__ (run between check() and _publish) widens that window so
    the interleaving is deterministic; a preemption there does the same with a plain float.
    """
    in_report = threading.Event()
    proceed = threading.Event()
    cancelling = threading.Event()
    outcome: list[str] = []

    class SlowNumber:
        def __float__(self) -> float:
            in_report.set()
            assert proceed.wait(WAIT_S)
            return 0.5

    def task(ctx: TaskContext) -> str:
        try:
            ctx.report(progress=SlowNumber(), message="step 1")  # type: ignore[arg-type]
        except TaskCancelled:
            outcome.append("raised")
            raise
        outcome.append("returned")
        return "done"

    def on_change(snap: TaskSnapshot) -> None:
        if snap.status is TaskStatus.CANCELLING:
            cancelling.set()

    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.add_listener(on_change)
        mgr.submit("t", task, timeout_s=0.1)
        assert in_report.wait(WAIT_S)  # check() passed, _publish not reached yet
        assert cancelling.wait(WAIT_S)  # the timeout fired in between
        proceed.set()
        final = mgr.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.message == "timed out after 0.1 s"
    assert outcome == ["raised"], "report after a cancel request must raise TaskCancelled"


@pytest.mark.parametrize("chain", ["plain", "context", "cause"])
def test_failed_task_does_not_keep_its_locals_alive(manager: AsyncTaskManager, chain: str) -> None:
    """BUG (context, cause): manager.py _call strips only the outer exception's traceback
    (exc.with_traceback(None)); the chained __context__ / __cause__ keep theirs, whose frames
    hold the task's locals alive for as long as the result is retained (up to result_ttl_s).
    docs/taskmgr.md promises "a failed task does not keep its locals alive"."""
    refs: list[weakref.ref[_Big]] = []

    def fails(ctx: TaskContext) -> None:
        big = _Big()
        refs.append(weakref.ref(big))
        if chain == "plain":
            raise ValueError("lookup failed")
        try:
            raise KeyError("missing")
        except KeyError as exc:
            if chain == "cause":
                raise ValueError("lookup failed") from exc
            raise ValueError("lookup failed")  # noqa: B904 (implicit __context__ on purpose)

    manager.submit("t", fails)
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR
    assert final.traceback is not None and "lookup failed" in final.traceback
    gc.collect()
    assert refs[0]() is None, "the task's locals are still reachable from its error"


@pytest.mark.parametrize("timeout_s", [None, 3600])
def test_evicted_result_is_not_kept_alive_by_its_timeout(
    gate: Gate, timeout_s: float | None
) -> None:
    """BUG (3600): DeadlineTimer.cancel (deadlines.py) only flags the Deadline; the heap entry
    keeps ``callback`` = partial(manager._on_timeout, record), so a finished task's record and
    its result stay alive until the deadline would have fired (here an hour) or until a
    compaction (only once > 64 entries are cancelled), whatever max_results/result_ttl_s say."""
    refs: list[weakref.ref[_Big]] = []

    def produce(ctx: TaskContext) -> _Big:
        big = _Big()
        refs.append(weakref.ref(big))
        return big

    with AsyncTaskManager(max_workers=1, max_results=1) as mgr:
        # "big" is neither the first task of its worker (see the next test) nor its last.
        mgr.submit("hold", gate.task)
        gate.wait_started()
        mgr.submit("big", produce, timeout_s=timeout_s)
        mgr.submit("other", noop)
        gate.release.set()
        mgr.join("other", timeout=WAIT_S)  # max_results=1: evicts "big" and "hold"
        with pytest.raises(UnknownTask):
            mgr.get_result("big")
        gc.collect()
        assert refs[0]() is None, "an evicted result is still reachable"


@pytest.mark.parametrize("place", ["first", "later"])
def test_a_busy_worker_does_not_keep_an_evicted_result_alive(gate: Gate, place: str) -> None:
    """BUG: a worker keeps an earlier task's result alive while it runs later ones, beyond
    max_results/result_ttl_s. first: _dispatch_locked starts the worker with
    partial(self._work, record), and the executor's work item holds that first record (and
    its result) for as long as this _work call keeps taking tasks, on a busy server for ever.
    later: in _work the locals ``result``/``error``/``events`` of the previous task stay
    bound while the next task runs. Bounded by max_workers records, but records can be big."""
    refs: list[weakref.ref[_Big]] = []
    go = threading.Event()

    def produce(ctx: TaskContext) -> _Big:
        big = _Big()
        refs.append(weakref.ref(big))
        assert go.wait(WAIT_S)
        return big

    def first(ctx: TaskContext) -> None:
        assert go.wait(WAIT_S)

    with AsyncTaskManager(max_workers=1, max_results=1) as mgr:
        if place == "later":
            mgr.submit("first", first)
        mgr.submit("big", produce)
        mgr.submit("next", gate.task)  # queued: the same _work call takes all of them
        go.set()
        gate.wait_started()
        mgr.submit("x", noop)
        mgr.cancel("x")  # a newer finished result: max_results=1 evicts "big"
        with pytest.raises(UnknownTask):
            mgr.get_result("big")
        gc.collect()
        alive = refs[0]() is not None
        gate.release.set()
    assert not alive, "an evicted result is still reachable from the busy worker"


def test_listener_raising_a_base_exception_on_a_worker_does_not_strand_the_next_task(
    gate: Gate,
) -> None:
    """BUG: manager.py _work pops and starts the next task (_start_locked: IN_PROGRESS, in
    _running) and only then calls _emit, which catches Exception, not BaseException. A
    listener raising a BaseException (Streamlit's StopException/RerunException are such)
    ends _work, and the started task never runs: IN_PROGRESS for ever, its worker slot lost,
    shutdown(wait=True) hangs. The contract says a raising listener is logged and kept."""
    raised: list[TaskSnapshot] = []

    def listener(snap: TaskSnapshot) -> None:
        if snap.id == "first" and snap.status is TaskStatus.SUCCESS and not raised:
            raised.append(snap)
            raise _ScriptControl()

    runner = _CountingRunner(1)
    mgr = AsyncTaskManager(max_workers=1, runner=runner)
    try:
        mgr.add_listener(listener)
        mgr.submit("first", gate.task)
        gate.wait_started()
        mgr.submit("second", noop, {"value": 2})
        gate.release.set()
        final = mgr.join("second", timeout=SHORT_WAIT_S)
        assert raised and final.result == 2
    finally:
        mgr.shutdown(wait=False)
        runner.inner.shutdown(wait=False)


def test_listener_raising_a_base_exception_on_a_timeout_does_not_stop_later_timeouts() -> None:
    """BUG: the CANCELLING event of a timeout is emitted on the DeadlineTimer thread
    (manager.py _on_timeout -> _emit). A BaseException from a listener escapes _emit and
    DeadlineTimer._run (deadlines.py, `except Exception`), the timer thread dies, and since
    _thread stays set it is never restarted: no later timeout of this manager ever fires."""
    raised = threading.Event()

    def listener(snap: TaskSnapshot) -> None:
        if snap.id == "first" and snap.status is TaskStatus.CANCELLING and not raised.is_set():
            raised.set()
            raise _ScriptControl()

    def forever(ctx: TaskContext) -> None:
        ctx.sleep(WAIT_S)

    with AsyncTaskManager(max_workers=2) as mgr:
        mgr.add_listener(listener)
        mgr.submit("first", forever, timeout_s=0.05)
        assert raised.wait(WAIT_S)
        assert mgr.join("first", timeout=WAIT_S).status is TaskStatus.CANCELLED
        mgr.submit("second", forever, timeout_s=0.05)
        final = mgr.join("second", timeout=SHORT_WAIT_S)
        assert final.message == "timed out after 0.05 s"


def test_runner_that_cannot_start_work_leaves_no_task_stuck_in_progress() -> None:
    """BUG: manager.py _dispatch_locked marks the task IN_PROGRESS and adds it to _running
    (_start_locked) before runner.start; if start raises (ThreadPoolExecutor: "can't start
    new thread", "cannot schedule new futures after interpreter shutdown"; any other backend
    behind the runner seam) the exception leaves submit but the task stays IN_PROGRESS on no
    worker, holds a worker slot for ever (later tasks queue behind it) and
    shutdown(wait=True) never returns."""
    runner = _CountingRunner(1, failures=1)
    mgr = AsyncTaskManager(max_workers=1, runner=runner)
    try:
        with contextlib.suppress(RuntimeError):
            mgr.submit("t", noop)
        with contextlib.suppress(UnknownTask):
            snap = mgr.get_result("t")
            assert snap.status.is_final, f"{snap.status.name} although no worker runs it"
        assert mgr.stats().running == 0
        mgr.submit("next", noop, {"value": 1})
        assert mgr.join("next", timeout=SHORT_WAIT_S).result == 1
    finally:
        mgr.shutdown(wait=False)
        runner.inner.shutdown(wait=False)


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("broken __str__")


def test_task_raising_an_unprintable_exception_still_ends_in_error() -> None:
    """BUG: _call (manager.py) logs a failure with _brief(exc), which formats str(exc) inside
    the `except BaseException` block. An exception whose __str__ raises (a bad format string in
    a library's exception class is enough) escapes _call and _work: the task stays IN_PROGRESS
    for ever, its worker slot is lost and shutdown(wait=True) hangs."""

    def bad(ctx: TaskContext) -> None:
        raise _Unprintable()

    runner = _CountingRunner(1)
    mgr = AsyncTaskManager(max_workers=1, runner=runner)
    try:
        mgr.submit("t", bad)
        final = mgr.join("t", timeout=SHORT_WAIT_S)
        assert final.status is TaskStatus.ERROR and isinstance(final.error, _Unprintable)
    finally:
        mgr.shutdown(wait=False)
        runner.inner.shutdown(wait=False)


def test_ctx_sleep_of_infinity_sleeps_until_cancelled(manager: AsyncTaskManager) -> None:
    """BUG: TaskContext.sleep (context.py) passes math.inf to Event.wait, which raises
    OverflowError: "sleep until cancelled" ends the task in ERROR at once."""

    def forever(ctx: TaskContext) -> None:
        ctx.sleep(math.inf)

    manager.submit("t", forever)
    with pytest.raises(TimeoutError):
        snap = manager.join("t", timeout=0.5)
        pytest.fail(f"sleep(inf) returned at once: {snap.status.name} {snap.error!r}")
    manager.cancel("t")
    assert manager.join("t", timeout=WAIT_S).status is TaskStatus.CANCELLED


def test_join_with_an_infinite_timeout_waits(manager: AsyncTaskManager, gate: Gate) -> None:
    """BUG: join (manager.py) passes deadline - now = inf to Condition.wait, which raises
    OverflowError instead of waiting like timeout=None."""
    manager.submit("t", gate.task)
    gate.wait_started()
    outcome: list[object] = []

    def joiner() -> None:
        try:
            outcome.append(manager.join("t", timeout=math.inf))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=joiner)
    thread.start()
    _poll_until(lambda: bool(outcome) or manager._joiners == 1, "the joiner to wait")
    gate.release.set()
    thread.join(WAIT_S)
    assert len(outcome) == 1
    assert isinstance(outcome[0], tuple), f"join(timeout=inf) raised {outcome[0]!r}"
    assert outcome[0].status is TaskStatus.SUCCESS


def test_join_with_a_nan_timeout_is_rejected_instead_of_spinning(
    manager: AsyncTaskManager, gate: Gate
) -> None:
    """BUG: join (manager.py) with timeout=nan: remaining is nan, ``remaining <= 0`` is False
    and Condition.wait(nan) returns at once, so join spins on the lock, burning a core, until
    the task ends, and never raises TimeoutError. It should reject the value like
    submit(timeout_s=nan) does."""
    manager.submit("t", gate.task)
    gate.wait_started()
    outcome: list[object] = []

    def joiner() -> None:
        try:
            outcome.append(manager.join("t", timeout=math.nan))
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=joiner, daemon=True)
    thread.start()
    thread.join(2.0)
    answered = not thread.is_alive()
    gate.release.set()
    thread.join(WAIT_S)
    assert answered, "join(timeout=nan) neither returned nor raised: it spins until the task ends"
    assert isinstance(outcome[0], ValueError), outcome


@pytest.mark.parametrize("bad", [math.nan, "1"])
def test_ctx_sleep_rejects_a_bad_duration_clearly(manager: AsyncTaskManager, bad: Any) -> None:
    """BUG (unclear error): TaskContext.sleep (context.py) does max(0.0, seconds): nan sleeps
    not at all, silently; "1" fails with "'>' not supported between instances of 'str' and
    'float'", naming neither sleep nor seconds (report() checks its progress argument)."""

    def napper(ctx: TaskContext) -> None:
        ctx.sleep(bad)

    manager.submit("t", napper)
    final = manager.join("t", timeout=WAIT_S)
    assert final.status is TaskStatus.ERROR, f"sleep({bad!r}) ended {final.status.name}"
    assert "seconds" in str(final.error), final.error


def test_kwargs_with_non_string_keys_are_rejected_by_submit(manager: AsyncTaskManager) -> None:
    """BUG (unclear error): submit (manager.py) checks that kwargs is a mapping but not that its
    keys are strings; the mistake surfaces later, as the task's ERROR "keywords must be
    strings", instead of a TypeError from submit like the other argument checks."""
    try:
        manager.submit("t", noop, {1: "x"})  # type: ignore[dict-item]
    except TypeError as exc:
        assert "kwargs" in str(exc)
        return
    # Let the task fail before this test does: a worker formatting a traceback while pytest
    # parses source for the report can hit CPython 3.11's "AST constructor recursion depth
    # mismatch" (python/cpython#106905) and abort the session.
    final = manager.join("t", timeout=WAIT_S)
    pytest.fail(f"submit accepted it; the task then ended {final.status.name}: {final.error!r}")


def test_a_runner_smaller_than_max_workers_is_rejected() -> None:
    """BUG (unclear error): __init__ (manager.py) never compares max_workers with the
    runner's max_workers (part of the TaskRunner protocol). With more manager slots than
    runner workers, tasks are marked IN_PROGRESS (started_at set, timeout running) while
    they wait inside the runner, and stats().running overstates the pool."""
    runner = ThreadPoolRunner(1)
    try:
        with pytest.raises(ValueError, match="max_workers"):
            AsyncTaskManager(max_workers=4, runner=runner).shutdown(wait=False)
    finally:
        runner.shutdown(wait=False)


@pytest.mark.parametrize("call", ["get_result", "join", "cancel"])
def test_unhashable_id_on_lookup_gives_the_same_clear_error_as_submit(
    manager: AsyncTaskManager, call: str
) -> None:
    """BUG (unclear error): _visible_locked (manager.py) does owned.get(task_id) without the
    _require_hashable check submit has: with no task for that owner an unhashable id is an
    UnknownTask (cancel: False), with some it is a bare "unhashable type: 'list'"."""
    manager.submit("t", noop)
    manager.join("t", timeout=WAIT_S)
    with pytest.raises(TypeError, match="task_id must be hashable"):
        getattr(manager, call)(["t"])


def test_queue_position_is_read_as_the_queue_stands_outside_version(gate: Gate) -> None:
    """queue_position is derived from the queue when a snapshot is made, not a change of the
    task: it moves up without a new version or event (documented in docs/taskmgr.md), so a
    poller sees it move while a listener keyed on version is not flooded on every dispatch."""
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.submit("hold", gate.task)
        gate.wait_started()
        mgr.submit("first", noop)
        before = mgr.submit("second", noop)
        assert before.queue_position == 2
        mgr.cancel("first")
        after = mgr.get_result("second")
        assert after.queue_position == 1
        assert after.version == before.version
        gate.release.set()


# -- gaps: handoff to a lingering worker ------------------------------------------------


def _hold_the_worker_after(task_id: str) -> tuple[Callable[[TaskSnapshot], None], Any, Any]:
    """A listener that, on ``task_id``'s SUCCESS, blocks the worker thread that emitted it.

    _work registers the worker as idle before it emits, so while the listener blocks, the
    worker sits in _idle and a submit hands it the next task without waking it yet.
    """
    held = threading.Event()
    go_on = threading.Event()

    def listener(snap: TaskSnapshot) -> None:
        if snap.id == task_id and snap.status is TaskStatus.SUCCESS:
            held.set()
            assert go_on.wait(WAIT_S)

    return listener, held, go_on


def test_a_burst_reuses_the_lingering_worker_without_a_new_runner_call() -> None:
    runner = _CountingRunner(2)
    listener, held, go_on = _hold_the_worker_after("first")
    with AsyncTaskManager(max_workers=2, runner=runner) as mgr:
        mgr.add_listener(listener)
        mgr.submit("first", noop)
        assert held.wait(WAIT_S)
        assert len(mgr._idle) == 1 and runner.starts == 1
        snap = mgr.submit("second", noop, {"value": 2})
        assert snap.status is TaskStatus.IN_PROGRESS  # handed over at once
        assert runner.starts == 1 and mgr._idle == []
        go_on.set()
        assert mgr.join("second", timeout=WAIT_S).result == 2
        assert runner.starts == 1


def test_cancel_of_a_task_handed_to_a_worker_that_has_not_woken_yet() -> None:
    ran = threading.Event()

    def must_not_run(ctx: TaskContext) -> None:
        ran.set()

    listener, held, go_on = _hold_the_worker_after("first")
    with AsyncTaskManager(max_workers=1) as mgr:
        mgr.add_listener(listener)
        mgr.submit("first", noop)
        assert held.wait(WAIT_S)
        assert mgr.submit("second", must_not_run).status is TaskStatus.IN_PROGRESS
        assert mgr.cancel("second") is True
        assert mgr.get_result("second").status is TaskStatus.CANCELLING
        go_on.set()
        final = mgr.join("second", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert not ran.is_set()


def test_shutdown_waits_for_a_task_handed_to_a_worker_that_has_not_woken_yet() -> None:
    listener, held, go_on = _hold_the_worker_after("first")
    runner = _CountingRunner(2)
    mgr = AsyncTaskManager(max_workers=2, runner=runner)
    mgr.add_listener(listener)
    mgr.submit("first", noop)
    assert held.wait(WAIT_S)
    mgr.submit("second", noop)  # handed to the held worker
    shutting = start_shutdown(mgr)
    go_on.set()
    shutting.join(WAIT_S)
    assert not shutting.is_alive(), "shutdown did not return"
    assert mgr.get_result("second").status is TaskStatus.CANCELLED
    assert mgr._idle == [] and mgr._runner_released
    assert all(not t.is_alive() for t in runner.inner._executor._threads)


def test_a_lingering_worker_gives_its_thread_back_and_a_new_one_is_started_later() -> None:
    runner = _CountingRunner(1)
    with AsyncTaskManager(max_workers=1, runner=runner) as mgr:
        mgr.submit("a", noop)
        mgr.join("a", timeout=WAIT_S)
        _poll_until(lambda: not mgr._idle, "the lingering worker to leave")
        mgr.submit("b", noop, {"value": "b"})
        assert mgr.join("b", timeout=WAIT_S).result == "b"
        assert runner.starts == 2


# -- gaps: bounded internal structures ----------------------------------------------------


def test_many_short_lived_owners_leave_bounded_bookkeeping(gate: Gate) -> None:
    with AsyncTaskManager(max_workers=1, max_results=10, max_running_per_owner=1) as mgr:
        mgr.submit("hold", gate.task, owner="holder")
        gate.wait_started()
        for i in range(100):  # queued then cancelled: stale heap entries in the FairQueue
            mgr.submit("q", noop, owner=f"gone{i}")
            assert mgr.cancel("q", owner=f"gone{i}")
        gate.release.set()
        mgr.join("hold", owner="holder", timeout=WAIT_S)
        for i in range(200):  # served once each, then evicted
            mgr.submit("t", noop, owner=f"owner{i}")
            mgr.join("t", owner=f"owner{i}", timeout=WAIT_S)
        mgr.list_all_tasks()  # expire
        queue = mgr._queue
        assert len(mgr._tasks) <= 10
        assert set(queue._last_served) <= set(mgr._tasks)
        assert queue._lanes == {} and queue._seq_of == {}
        assert len(queue._heap) <= 1 and len(queue._key_of) <= 1
        assert mgr._running_per_owner == {}


def test_deadline_heap_stays_bounded_when_tasks_finish_before_their_timeout() -> None:
    with AsyncTaskManager(max_workers=2, max_queued_per_owner=1000) as mgr:
        for i in range(300):
            mgr.submit(i, noop, timeout_s=3600)
        for i in range(300):
            mgr.join(i, timeout=WAIT_S)
        assert mgr._deadlines.pending() == 0
        assert len(mgr._deadlines._heap) <= 130


# -- gaps: queue_position as the dispatch order -----------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_queue_position_predicts_the_start_order(gate: Gate, seed: int) -> None:
    rng = random.Random(seed)
    starts: list[tuple[int, object, object]] = []

    def on_change(snap: TaskSnapshot) -> None:
        if snap.status is TaskStatus.IN_PROGRESS and snap.id != "hold":
            starts.append((snap.version, snap.owner, snap.id))

    with AsyncTaskManager(max_workers=1, max_queued_per_owner=100) as mgr:
        mgr.add_listener(on_change)
        mgr.submit("hold", gate.task, owner="x")
        gate.wait_started()
        keys: list[tuple[str, int]] = []
        for n in range(rng.randint(5, 40)):
            key = (f"o{rng.randint(0, 4)}", n)
            keys.append(key)
            mgr.submit(n, noop, owner=key[0])
            if rng.random() < 0.2:
                victim = rng.choice(keys)
                mgr.cancel(victim[1], owner=victim[0])
        positions = {}
        for owner, n in keys:
            snap = mgr.get_result(n, owner=owner)
            if snap.status is TaskStatus.INIT:
                positions[(owner, n)] = snap.queue_position
        gate.release.set()
        mgr.shutdown(wait=True, cancel=False)
    order = [(owner, task_id) for _, owner, task_id in sorted(starts)]
    assert {key: place for place, key in enumerate(order, start=1)} == positions


# -- stress ---------------------------------------------------------------------------------


_RANK = {
    TaskStatus.INIT: 0,
    TaskStatus.IN_PROGRESS: 1,
    TaskStatus.CANCELLING: 2,
    TaskStatus.SUCCESS: 3,
    TaskStatus.ERROR: 3,
    TaskStatus.CANCELLED: 3,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("seed", range(20))
def test_random_operations_leave_a_consistent_manager(
    seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    """Eight threads submit, resubmit, cancel, time out, join and read at random while the
    manager runs, and (on odd seeds) one of them shuts it down midway. Afterwards every task
    is final, nothing is counted or left in internal structures, each function ran at most
    once, a task cancelled while queued never ran, and each task's snapshots, ordered by
    version, follow the state machine and end at the snapshot get_result gives."""
    rng = random.Random(seed)
    cap = rng.choice([None, 1, 2])
    mgr = AsyncTaskManager(
        max_workers=rng.randint(1, 4),
        max_queued_per_owner=6,
        max_running_per_owner=cap,
        max_results=10_000,
    )
    owners = [f"o{i}" for i in range(4)] + [None]
    runs: dict[str, int] = {}
    snaps: dict[str, list[TaskSnapshot]] = {}
    book = threading.Lock()
    errors: list[BaseException] = []
    tokens = iter(range(10**9))

    def ran(token: str) -> None:
        with book:
            runs[token] = runs.get(token, 0) + 1

    def quick(ctx: TaskContext, value: int, token: str) -> int:
        ran(token)
        return value

    def napper(ctx: TaskContext, value: int, token: str) -> int:
        ran(token)
        for step in range(3):
            ctx.report(progress=step / 3, data=step)
            ctx.sleep(0.002)
        return value

    def deaf(ctx: TaskContext, value: int, token: str) -> int:
        ran(token)
        for _ in range(3):  # ignores cancellation for a few short naps
            with contextlib.suppress(TaskCancelled):
                ctx.sleep(0.002)
        return value

    def failing(ctx: TaskContext, value: int, token: str) -> int:
        ran(token)
        raise ValueError(value)

    kinds = (quick, napper, deaf, failing)

    def on_change(snap: TaskSnapshot) -> None:
        with book:
            snaps.setdefault(snap.name, []).append(snap)

    mgr.add_listener(on_change)
    shut_done = threading.Event()
    cancel = rng.random() < 0.5
    wait = rng.random() < 0.7
    shut_at = rng.randrange(50, 300) if seed % 2 else None

    def shut() -> None:
        mgr.shutdown(wait=wait, cancel=cancel)
        shut_done.set()

    go = threading.Barrier(8)

    def client(number: int) -> None:
        crng = random.Random(seed * 100 + number)
        go.wait()
        try:
            for op in range(400):
                if number == 0 and op == shut_at:
                    threading.Thread(target=shut, daemon=True).start()
                owner = crng.choice(owners)
                task_id = crng.randrange(6)
                action = crng.random()
                if action < 0.45:
                    with book:
                        token = f"t{next(tokens)}"
                    try:
                        mgr.submit(
                            task_id,
                            crng.choice(kinds),
                            {"value": task_id, "token": token},
                            owner=owner,
                            name=token,
                            timeout_s=crng.choice([None, None, 0.003]),
                        )
                    except QueueFull:
                        pass
                    except ManagerClosed:
                        return
                elif action < 0.6:
                    mgr.cancel(task_id, owner=owner)
                elif action < 0.63:
                    mgr.cancel_owner(owner)
                elif action < 0.8:
                    with contextlib.suppress(UnknownTask):
                        snap = mgr.get_result(task_id, owner=owner)
                        assert (snap.owner, snap.id) == (owner, task_id)
                        assert (snap.queue_position is not None) == (snap.status is TaskStatus.INIT)
                elif action < 0.9:
                    with contextlib.suppress(UnknownTask, TimeoutError):
                        mgr.join(task_id, owner=owner, timeout=0.002)
                else:
                    stats = mgr.stats()
                    assert 0 <= stats.running <= mgr.max_workers
                    if cap is not None:
                        assert all(s.running <= cap for s in stats.per_owner.values())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
    with caplog.at_level(logging.ERROR):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT_S)
        if shut_at is None:
            threading.Thread(target=shut, daemon=True).start()
        assert shut_done.wait(WAIT_S), "shutdown did not return"
        if not wait:  # shutdown(wait=False) frees the runner once the last task is done
            _poll_until(lambda: mgr._runner_released, "the runner to be released")
    assert not errors, errors
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text

    visible = mgr.list_all_tasks()
    assert all(snap.status.is_final for snap in visible), visible
    stats = mgr.stats()
    assert (stats.running, stats.queued, stats.cancelling, dict(stats.per_owner)) == (0, 0, 0, {})
    assert mgr._running == set() and mgr._running_per_owner == {} and mgr._idle == []
    assert len(mgr._queue) == 0 and mgr._queue._lanes == {} and mgr._queue._seq_of == {}
    assert set(mgr._queue._last_served) <= set(mgr._tasks)
    assert mgr._deadlines.pending() == 0 and mgr._runner_released
    assert sum(len(mgr.list_tasks(owner)) for owner in owners) == len(visible)

    def told_of_every_end() -> bool:
        # After shutdown(wait=False) a worker may still be on its way to tell its listeners.
        with book:
            return all(max(snaps[snap.name], key=_version) == snap for snap in visible)

    _poll_until(told_of_every_end, "the listeners to be told of every task's last change")
    assert all(count == 1 for count in runs.values()), runs
    for token, history in snaps.items():
        history.sort(key=lambda snap: snap.version)
        ranks = [_RANK[snap.status] for snap in history]
        assert ranks == sorted(ranks), (token, [snap.status.name for snap in history])
        assert sum(snap.status.is_final for snap in history) <= 1, token
        last = history[-1]
        if last.status is TaskStatus.CANCELLED and last.started_at is None:
            assert token not in runs, f"{token} was cancelled while queued, yet it ran"
        if last.status is TaskStatus.SUCCESS:
            assert last.result == last.id
        if last.message is not None and last.message.startswith("timed out"):
            assert last.status in (TaskStatus.CANCELLING, TaskStatus.CANCELLED)
    for snap in visible:
        assert snaps[snap.name][-1] == snap, snap


def _version(snap: TaskSnapshot) -> int:
    return snap.version
