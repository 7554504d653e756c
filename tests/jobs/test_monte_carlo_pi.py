"""monte_carlo_pi: a converging estimate, published as a chart while it runs."""

from __future__ import annotations

import itertools
import json
import math
import pickle

from jobs.monte_carlo_pi import GROWTH, MAX_POINTS
from taskmgr import AsyncTaskManager, TaskStatus
from tests.jobs.conftest import WAIT_S, Recorder, run_job, start_job


def test_estimate_is_close_to_pi_and_reports_its_error(manager: AsyncTaskManager) -> None:
    final = run_job(manager, "monte_carlo_pi", {"samples": 1_000_000, "batch": 50_000})
    assert final.status is TaskStatus.SUCCESS, final.error
    result = final.result
    assert set(result) == {
        "series",
        "x_label",
        "y_label",
        "samples",
        "inside",
        "estimate",
        "error",
        "ci95",
    }
    assert (result["x_label"], result["y_label"]) == ("points drawn", "estimate of pi")
    assert result["samples"] == 1_000_000
    assert result["estimate"] == 4 * result["inside"] / 1_000_000
    assert result["error"] == abs(result["estimate"] - math.pi)
    assert result["error"] < 0.01  # about 6 standard errors at a million points
    assert 0.001 < result["ci95"] < 0.01


def test_series_is_the_estimate_after_each_batch(manager: AsyncTaskManager) -> None:
    final = run_job(manager, "monte_carlo_pi", {"samples": 100_000, "batch": 10_000})
    series = final.result["series"]
    assert [point["x"] for point in series] == list(range(10_000, 100_001, 10_000))
    assert series[-1]["y"] == final.result["estimate"]
    assert all(2.0 < point["y"] < 4.0 for point in series)


def test_long_runs_keep_points_at_growing_counts_each_a_true_estimate(
    manager: AsyncTaskManager,
) -> None:
    final = run_job(manager, "monte_carlo_pi", {"samples": 2_000_000, "batch": 1_000})
    series = final.result["series"]
    assert len(series) <= MAX_POINTS
    xs = [point["x"] for point in series]
    assert xs == sorted(set(xs))
    assert xs[-1] == 2_000_000 and xs[0] == 1_000
    # Spread over the whole run (not bunched at its end), each past the last by >= GROWTH.
    assert all(later >= earlier * GROWTH for earlier, later in itertools.pairwise(xs[:-1]))
    assert xs[len(xs) // 2] < 1_000_000
    # The same run with every batch kept has the same estimate at every kept count.
    dense = run_job(manager, "monte_carlo_pi", {"samples": 200_000, "batch": 1_000}).result
    at = {point["x"]: point["y"] for point in dense["series"]}
    assert all(at[p["x"]] == p["y"] for p in series if p["x"] in at)


def test_same_seed_gives_the_same_estimate(manager: AsyncTaskManager) -> None:
    params = {"samples": 200_000, "batch": 20_000, "seed": 42}
    first = run_job(manager, "monte_carlo_pi", params).result
    again = run_job(manager, "monte_carlo_pi", params).result
    other = run_job(manager, "monte_carlo_pi", {**params, "seed": 43}).result
    assert first == again
    assert other["inside"] != first["inside"]


def test_partial_results_are_plain_growing_charts(
    manager: AsyncTaskManager, recorder: Recorder
) -> None:
    final = run_job(manager, "monte_carlo_pi", {"samples": 3_000_000, "batch": 10_000})
    assert final.status is TaskStatus.SUCCESS
    partials = recorder.partials("monte_carlo_pi")
    assert len(partials) >= 1
    assert [snap.data["samples"] for snap in partials] == sorted(
        snap.data["samples"] for snap in partials
    )
    for snap in partials:
        assert snap.progress == snap.data["samples"] / 3_000_000
        assert snap.message is not None and "pi ≈" in snap.message
        assert json.loads(json.dumps(snap.data, allow_nan=False)) == snap.data
        assert pickle.loads(pickle.dumps(snap.data)) == snap.data
    assert final.data == final.result


def test_cancel_stops_a_long_run_promptly(manager: AsyncTaskManager, recorder: Recorder) -> None:
    start_job(manager, "monte_carlo_pi", {"samples": 1_000_000_000, "batch": 1_000})
    recorder.wait_for(lambda snap: snap.data is not None)
    assert manager.cancel("monte_carlo_pi")
    final = manager.join("monte_carlo_pi", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert 0 < final.data["samples"] < 1_000_000_000  # it stopped long before the end
