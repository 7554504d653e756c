"""batch_steps: one row per slow step, a clear failure on request, prompt cancel."""

from __future__ import annotations

import json

from jobs.batch_steps import StepFailed
from taskmgr import AsyncTaskManager, TaskStatus
from tests.jobs.conftest import WAIT_S, Recorder, run_job, start_job


def test_every_step_adds_a_row(manager: AsyncTaskManager) -> None:
    final = run_job(manager, "batch_steps", {"steps": 6, "step_s": 0.01})
    assert final.status is TaskStatus.SUCCESS, final.error
    rows = final.result
    assert [row["step"] for row in rows] == [1, 2, 3, 4, 5, 6]
    assert [row["item"] for row in rows][:2] == ["item-00001", "item-00002"]
    for row in rows:
        assert set(row) == {"step", "item", "status", "latency_ms", "bytes"}
        assert row["status"] == "ok"
        assert row["latency_ms"] >= 4.0  # at least half of step_s was waited
        assert 200 <= row["bytes"] < 20_000
    assert final.progress == 1.0
    assert final.message == "step 6/6 done"


def test_partial_table_grows_and_is_a_copy(manager: AsyncTaskManager, recorder: Recorder) -> None:
    final = run_job(manager, "batch_steps", {"steps": 12, "step_s": 0.02})
    partials = recorder.partials("batch_steps")
    assert len(partials) >= 2  # every 0.1 s over roughly 0.24 s of steps
    sizes = [len(snap.data) for snap in partials]
    assert sizes == sorted(sizes) and sizes[-1] == 12
    assert partials[0].data is not final.result
    assert partials[0].data == final.result[: len(partials[0].data)]
    assert json.loads(json.dumps(final.result)) == final.result


def test_fail_at_ends_in_error_naming_the_step(manager: AsyncTaskManager) -> None:
    final = run_job(manager, "batch_steps", {"steps": 5, "step_s": 0.005, "fail_at": 3})
    assert final.status is TaskStatus.ERROR
    assert isinstance(final.error, StepFailed)
    assert str(final.error).startswith("step 3 of 5 failed: simulated upstream error")
    assert [row["status"] for row in final.data] == ["ok", "ok", "failed"]
    assert final.message == "step 3/5 failed"


def test_cancel_wakes_a_sleeping_step_at_once(
    manager: AsyncTaskManager, recorder: Recorder
) -> None:
    # The first step sleeps about 38 s (60 s times its jitter), longer than the join waits:
    # the join returns only if the cancel woke the sleeping step.
    start_job(manager, "batch_steps", {"steps": 100, "step_s": 60.0})
    recorder.wait_for(lambda snap: snap.status is TaskStatus.IN_PROGRESS)
    assert manager.cancel("batch_steps")
    final = manager.join("batch_steps", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.data is None  # no step had finished
