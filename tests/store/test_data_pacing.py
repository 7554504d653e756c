"""A running task's growing data is rewritten within a budget; its progress every batch."""

from __future__ import annotations

import time

import pytest

from store import SqlStore
from store.data_pacing import DataPacer
from store.records import WriteBatch
from taskmgr import TaskSnapshot, TaskStatus

RUNNING = TaskStatus.IN_PROGRESS


def test_a_running_tasks_data_waits_for_the_interval_after_it_was_written() -> None:
    pacer = DataPacer(min_interval_s=10, budget=0.05)
    assert pacer.due("t", RUNNING, 1.0, now=100)
    pacer.written("t", RUNNING, 1.0, encode_s=0.0, now=100)
    assert not pacer.due("t", RUNNING, 1.0, now=109)
    assert pacer.due("t", RUNNING, 1.0, now=110)


def test_a_change_of_status_or_a_new_task_under_the_id_is_due_at_once() -> None:
    pacer = DataPacer(min_interval_s=10, budget=0.05)
    pacer.written("t", TaskStatus.INIT, 1.0, encode_s=0.0, now=100)
    assert pacer.due("t", RUNNING, 1.0, now=101)
    pacer.written("t", RUNNING, 1.0, encode_s=0.0, now=101)
    assert pacer.due("t", RUNNING, 2.0, now=102)  # resubmitted: another task
    assert pacer.due("t", TaskStatus.CANCELLED, 1.0, now=102)


def test_a_final_snapshot_is_always_due_and_forgets_the_task() -> None:
    pacer = DataPacer(min_interval_s=10, budget=0.05)
    pacer.written("t", RUNNING, 1.0, encode_s=0.0, now=100)
    assert len(pacer) == 1
    assert pacer.due("t", TaskStatus.SUCCESS, 1.0, now=100)
    pacer.written("t", TaskStatus.SUCCESS, 1.0, encode_s=0.0, now=100)
    assert len(pacer) == 0


def test_the_wait_grows_with_the_encoding_cost_and_the_running_tasks() -> None:
    """Ten tasks whose data takes 10 ms to encode, in a 5% budget: each waits 2 s."""
    pacer = DataPacer(min_interval_s=0.5, budget=0.05)
    for number in range(10):
        pacer.written(f"t{number}", RUNNING, 1.0, encode_s=0.01, now=100)
    pacer.written("t0", RUNNING, 1.0, encode_s=0.01, now=100)
    assert not pacer.due("t0", RUNNING, 1.0, now=101.9)
    assert pacer.due("t0", RUNNING, 1.0, now=102.0)


@pytest.mark.parametrize(("min_interval_s", "budget"), [(-1, 0.05), (1, 0), (1, 2)])
def test_nonsense_settings_are_refused(min_interval_s: float, budget: float) -> None:
    with pytest.raises(ValueError):
        DataPacer(min_interval_s, budget)


def _snapshot(
    status: TaskStatus, version: int, data: object, result: object = None
) -> TaskSnapshot:
    return TaskSnapshot(
        id="t-1",
        owner="alice",
        name="count",
        status=status,
        progress=version / 10,
        message=f"step {version}",
        data=data,
        result=result,
        error=None,
        traceback=None,
        submitted_at=1000.0,
        started_at=1000.0,
        finished_at=1010.0 if status.is_final else None,
        queue_position=None,
        version=version,
    )


def _write(store: SqlStore, snap: TaskSnapshot) -> None:
    store.write(WriteBatch(tasks={(snap.owner, snap.id): snap}), "process-1")


def test_the_store_writes_progress_every_time_and_data_when_due(sql_store: SqlStore) -> None:
    sql_store.data_pacer = DataPacer(min_interval_s=3600, budget=0.05)
    _write(sql_store, _snapshot(RUNNING, 1, [1]))
    _write(sql_store, _snapshot(RUNNING, 2, [1, 2]))
    stored = sql_store.task("alice", "t-1")
    assert stored is not None
    assert (stored.message, stored.data) == ("step 2", [1])

    _write(sql_store, _snapshot(TaskStatus.CANCELLING, 3, [1, 2, 3]))
    stored = sql_store.task("alice", "t-1")
    assert stored is not None and stored.data == [1, 2, 3]

    _write(sql_store, _snapshot(TaskStatus.CANCELLED, 4, [1, 2, 3, 4]))
    stored = sql_store.task("alice", "t-1")
    assert stored is not None
    assert (stored.status, stored.data) == (TaskStatus.CANCELLED, [1, 2, 3, 4])


def test_a_running_tasks_data_catches_up_once_its_interval_passed(
    sql_store: SqlStore,
) -> None:
    sql_store.data_pacer = DataPacer(min_interval_s=0.2, budget=0.05)
    _write(sql_store, _snapshot(RUNNING, 1, [1]))
    deadline = time.monotonic() + 30
    version = 1
    while True:  # each write is a batch; the data catches up once its interval passed
        version += 1
        _write(sql_store, _snapshot(RUNNING, version, list(range(version))))
        stored = sql_store.task("alice", "t-1")
        assert stored is not None
        if stored.data == list(range(version)):
            break
        assert time.monotonic() < deadline, "the data was never rewritten"
        time.sleep(0.05)  # ok: the next batch, as the writer's batching delay would space it
