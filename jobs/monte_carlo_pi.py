"""Estimate pi by throwing random points at a square and counting those inside the circle."""

from __future__ import annotations

import math
from typing import Any

from jobs.pacing import ReportThrottle
from jobs.spec import Job, Param
from taskmgr import TaskContext

#: The chart keeps at most this many points; older ones are thinned out evenly.
MAX_POINTS = 400


def estimate_pi(ctx: TaskContext, *, samples: int, batch: int, seed: int) -> dict[str, Any]:
    """Draw ``samples`` points in batches; publish the estimate after each batch or so."""
    import numpy as np  # imported here so that listing jobs stays fast

    rng = np.random.default_rng(seed)
    throttle = ReportThrottle()
    series: list[dict[str, float]] = []
    done = inside = 0
    while done < samples:
        size = min(batch, samples - done)
        x = rng.random(size)
        y = rng.random(size)
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
        done += size
        series.append({"x": done, "y": 4.0 * inside / done})
        if len(series) > MAX_POINTS:
            series = _thinned(series)
        if done == samples or throttle.due():
            summary = _summary(series, done, inside)
            ctx.report(
                progress=done / samples,
                message=f"{done:,} of {samples:,} points: pi ≈ {summary['estimate']:.6f}",
                data=summary,
            )
        else:
            ctx.check()
    return _summary(series, done, inside)


def _thinned(series: list[dict[str, float]]) -> list[dict[str, float]]:
    """Every other point, always keeping the latest one."""
    kept = series[::2]
    if kept[-1] is not series[-1]:
        kept.append(series[-1])
    return kept


def _summary(series: list[dict[str, float]], done: int, inside: int) -> dict[str, Any]:
    share = inside / done
    estimate = 4.0 * share
    return {
        "series": list(series),
        "x_label": "points drawn",
        "y_label": "estimate of pi",
        "samples": done,
        "inside": inside,
        "estimate": estimate,
        "error": abs(estimate - math.pi),
        # Half-width of the 95% confidence interval of the estimate (normal approximation).
        "ci95": 1.96 * 4.0 * math.sqrt(share * (1.0 - share) / done),
    }


JOB = Job(
    key="monte_carlo_pi",
    title="Monte Carlo estimate of pi",
    description=(
        "Throws random points at a unit square and counts how many land inside the quarter "
        "circle; four times that share converges on pi. The chart shows the estimate as the "
        "points add up."
    ),
    fn=estimate_pi,
    params=(
        Param(
            "samples",
            "Points to draw",
            "int",
            2_000_000,
            minimum=1,
            maximum=1_000_000_000,
            help="More points give a closer estimate; the error shrinks like 1/sqrt(points).",
        ),
        Param(
            "batch",
            "Points per batch",
            "int",
            100_000,
            minimum=1_000,
            maximum=1_000_000,
            help="Points drawn at once; each batch adds one point to the chart.",
        ),
        Param(
            "seed",
            "Random seed",
            "int",
            0,
            minimum=0,
            maximum=2**32 - 1,
            help="The same seed and batch size give the same estimate.",
        ),
    ),
    result_kind="chart",
)
