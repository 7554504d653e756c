"""Real snapshots of real jobs in every state, made once for the output tests."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from jobs import get_job
from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus

WAIT_S = 30.0


@dataclass(frozen=True)
class Snapshots:
    queued: TaskSnapshot
    running: TaskSnapshot
    cancelled: TaskSnapshot
    table_done: TaskSnapshot
    chart_done: TaskSnapshot
    failed: TaskSnapshot


def _submit(manager: AsyncTaskManager, task_id: str, key: str, **raw: object) -> None:
    job = get_job(key)
    manager.submit(task_id, job.fn, job.validate(raw), name=key)


@pytest.fixture(scope="package")
def snapshots() -> Iterator[Snapshots]:
    manager = AsyncTaskManager(max_workers=1)
    reported = threading.Event()
    remove = manager.add_listener(
        lambda snap: reported.set() if snap.id == "running" and snap.data else None
    )
    try:
        _submit(manager, "running", "batch_steps", steps=1000, step_s=0.02)
        assert reported.wait(WAIT_S), "batch_steps never reported"
        _submit(manager, "queued", "monte_carlo_pi", samples=10_000)
        queued = manager.get_result("queued")
        running = manager.get_result("running")
        manager.cancel("queued")
        manager.cancel("running")
        cancelled = manager.join("running", timeout=WAIT_S)
        _submit(manager, "table", "batch_steps", steps=3, step_s=0.001)
        _submit(manager, "chart", "monte_carlo_pi", samples=50_000, batch=5_000)
        _submit(manager, "failed", "batch_steps", steps=4, step_s=0.001, fail_at=2)
        yield Snapshots(
            queued=queued,
            running=running,
            cancelled=cancelled,
            table_done=manager.join("table", timeout=WAIT_S),
            chart_done=manager.join("chart", timeout=WAIT_S),
            failed=manager.join("failed", timeout=WAIT_S),
        )
    finally:
        remove()
        manager.shutdown(wait=True, cancel=True)


@pytest.fixture(scope="package", autouse=True)
def _states_are_as_named(snapshots: Snapshots) -> None:
    assert snapshots.queued.status is TaskStatus.INIT
    assert snapshots.running.status is TaskStatus.IN_PROGRESS
    assert snapshots.cancelled.status is TaskStatus.CANCELLED
    assert snapshots.table_done.status is TaskStatus.SUCCESS
    assert snapshots.chart_done.status is TaskStatus.SUCCESS
    assert snapshots.failed.status is TaskStatus.ERROR


def with_changes(snapshot: TaskSnapshot, **changes: Any) -> TaskSnapshot:
    """A copy of a snapshot with some fields changed (it is an immutable record)."""
    replace_fields = getattr(snapshot, "_replace", None)
    if replace_fields is not None:
        return replace_fields(**changes)
    return dataclasses.replace(snapshot, **changes)
