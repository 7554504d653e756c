"""Tasks, sessions and values reach the database behind a queue, coalesced."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from sessions import SessionInfo, SessionState
from store import ValueTooLarge, persisted_state
from taskmgr import AsyncTaskManager, TaskContext, TaskSnapshot, TaskStatus
from tests.store.conftest import DurableFactory
from tests.support.wait import wait_until


def count_to(ctx: TaskContext, n: int) -> dict[str, int]:
    for i in range(n):
        ctx.report(progress=(i + 1) / n, message=f"{i + 1}/{n}", data=[i])
    return {"counted": n}


def test_a_finished_task_is_stored_with_its_params_and_result(
    make_durable: DurableFactory, manager: AsyncTaskManager
) -> None:
    durable = make_durable()
    durable.attach_manager(manager)
    manager.submit("t-1", count_to, {"n": 3}, owner="alice", name="count")
    durable.record_params("alice", "t-1", "count", {"n": 3, "blob": b"\x00\xff"})
    manager.join("t-1", owner="alice", timeout=30)
    assert durable.writer.flush(30)

    stored = durable.backend.task("alice", "t-1")
    assert stored is not None
    assert stored.status is TaskStatus.SUCCESS
    assert stored.result == {"counted": 3}
    assert stored.params == {"n": 3, "blob": b"\x00\xff"}
    assert stored.process_id == durable.process.id
    assert stored.to_snapshot().result == {"counted": 3}
    assert durable.backend.tasks("bob") == []


def test_progress_ticks_of_a_task_are_coalesced(
    make_durable: DurableFactory, manager: AsyncTaskManager
) -> None:
    durable = make_durable()
    durable.attach_manager(manager)
    gate = threading.Event()

    def many_ticks(ctx: TaskContext) -> str:
        gate.wait(30)
        for i in range(2000):
            ctx.report(progress=i / 2000, message=f"tick {i}")
        return "done"

    manager.submit("ticks", many_ticks, owner="alice")
    assert durable.writer.flush(30)
    before = durable.writer.health().written
    gate.set()
    manager.join("ticks", owner="alice", timeout=30)
    assert durable.writer.flush(30)
    # 2000 reports and the final snapshot became a handful of rows.
    assert durable.writer.health().written - before < 100
    stored = durable.backend.task("alice", "ticks")
    assert stored is not None and stored.status is TaskStatus.SUCCESS
    assert stored.message == "tick 1999"


def test_a_burst_of_tasks_lands_each_in_its_final_state_even_once_forgotten(
    make_durable: DurableFactory,
) -> None:
    """The manager keeps 50 results; 900 tasks end in a burst. The store still gets
    every one's final state (the change feed keeps a forgotten task's last change)."""
    durable = make_durable()

    def square(ctx: TaskContext, n: int) -> int:
        return n * n

    with AsyncTaskManager(max_workers=4, max_queued_per_owner=900, max_results=50) as manager:
        durable.attach_manager(manager)
        for i in range(900):
            manager.submit(i, square, {"n": i}, owner=f"user-{i % 3}")
        # Most results are forgotten before anyone could join them: wait for the pool.
        wait_until(
            lambda: (stats := manager.stats()).running + stats.queued == 0,
            timeout=60,
            message="every task ended",
        )
    assert durable.writer.flush(60)
    for owner in range(3):
        stored = durable.backend.tasks(f"user-{owner}", limit=1000)
        assert len(stored) == 300
        assert {task.status for task in stored} == {TaskStatus.SUCCESS}
        assert {task.result for task in stored} == {i * i for i in range(owner, 900, 3)}


def test_a_burst_that_never_ends_is_still_written_every_max_delay(
    make_durable: DurableFactory,
) -> None:
    """The writer waits for a burst to end before writing, but never longer than
    ``max_delay_s``: a task reporting without a pause still reaches the database."""
    durable = make_durable()
    durable.writer.max_delay_s = 0.3
    stop = threading.Event()

    def report_without_a_pause(ctx: TaskContext) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ctx.report(message=f"report {n}")

    with AsyncTaskManager(max_workers=1) as manager:
        durable.attach_manager(manager)
        manager.submit("busy", report_without_a_pause, owner="alice")
        try:
            # Both, in any order: a batch is counted just after its commit is visible.
            wait_until(
                lambda: (
                    durable.writer.health().batches >= 1 and durable.backend.task("alice", "busy")
                ),
                message="a row written while the reports still pour in",
            )
            stored = durable.backend.task("alice", "busy")
            assert stored is not None
            assert stored.status is TaskStatus.IN_PROGRESS
        finally:
            stop.set()


def test_session_history_keeps_ended_sessions(make_durable: DurableFactory) -> None:
    durable = make_durable()
    started = time.time() - 5
    info = SessionInfo(
        "s-1", "alice", SessionState.CONNECTED, started, None, None, "UA", None, "Jobs", 1
    )
    durable.writer.session(info)
    durable.writer.session(info._replace(state=SessionState.ENDED), ended_at=started + 4)
    assert durable.writer.flush(30)
    (ended,) = durable.backend.sessions()
    assert ended.state == "ended"
    assert ended.duration_s == pytest.approx(4)
    assert ended.page == "Jobs"


def test_persisted_state_survives_a_new_process(make_durable: DurableFactory) -> None:
    first = make_durable()
    inputs = persisted_state("inputs", {}, owner="alice", durable=first)
    frame = persisted_state("frame", None, owner="alice", durable=first)
    inputs.set({"steps": "40", "fast": True})
    frame.set(pd.DataFrame({"x": [1, 2], "y": ["a", "b"]}))
    assert inputs.value == {"steps": "40", "fast": True}
    assert first.writer.flush(30)

    second = make_durable()  # another process: nothing cached
    assert persisted_state("inputs", {}, owner="alice", durable=second).value == {
        "steps": "40",
        "fast": True,
    }
    restored = persisted_state("frame", None, owner="alice", durable=second).value
    assert isinstance(restored, pd.DataFrame)
    assert restored.to_dict("list") == {"x": [1, 2], "y": ["a", "b"]}
    assert persisted_state("inputs", "none", owner="bob", durable=second).value == "none"


def test_a_value_too_large_is_refused_and_the_old_one_kept(make_durable: DurableFactory) -> None:
    durable = make_durable(max_value_bytes=1000)
    state = persisted_state("notes", "", owner="alice", durable=durable)
    state.set("short")
    with pytest.raises(ValueTooLarge, match=r"'notes' is 2.0 KiB, over the 1000 bytes"):
        state.set("x" * 2048)
    with pytest.raises(TypeError, match="only JSON values"):
        state.set({1, 2})  # type: ignore[arg-type]
    assert state.value == "short"
    assert durable.writer.flush(30)
    assert durable.backend.get_value("alice", "notes") == ("json", b'"short"')


def test_a_closed_store_holds_nothing_more_for_the_managers_it_served(
    make_durable: DurableFactory, manager: AsyncTaskManager
) -> None:
    """A manager can outlive its store (a store released and made again): once closed,
    the store must not keep every later change of that manager for nobody."""
    durable = make_durable()
    durable.attach_manager(manager)
    durable.close()
    for n in range(3):
        manager.submit(n, count_to, {"n": 2}, owner="alice")
        manager.join(n, owner="alice", timeout=30)
    assert durable.writer.health().held == 0


class _BrokenOnce:
    """A feed whose first take raises, as a bug in the manager's own bookkeeping (which
    a take runs on the writer's thread when it releases the manager's lock) would."""

    def __init__(self) -> None:
        self.broken = True

    def take(self, limit: int = 1000) -> list[TaskSnapshot]:
        if self.broken:
            self.broken = False
            raise RuntimeError("a bug on the writer's thread")
        return []

    def pending(self) -> int:
        return 1 if self.broken else 0

    def close(self) -> None:
        self.broken = False


def test_the_writer_goes_on_after_a_pass_that_failed(
    make_durable: DurableFactory, manager: AsyncTaskManager, caplog: pytest.LogCaptureFixture
) -> None:
    durable = make_durable()
    broken = _BrokenOnce()
    durable.writer.add_feed(lambda wake: broken)
    wait_until(lambda: not broken.broken, message="the broken feed's take")
    durable.attach_manager(manager)
    manager.submit("after", count_to, {"n": 2}, owner="alice")
    manager.join("after", owner="alice", timeout=30)
    assert durable.writer.flush(30)
    stored = durable.backend.task("alice", "after")
    assert stored is not None and stored.status is TaskStatus.SUCCESS
    assert durable.health().writer.ok
    assert "the writer's pass failed; it tries again" in caplog.text
