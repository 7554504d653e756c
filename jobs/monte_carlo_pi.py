"""Estimate pi by throwing random points at a square and counting those inside the circle."""

from __future__ import annotations

import math
from typing import Any

from jobs.pacing import ReportThrottle
from jobs.spec import Job, Param
from taskmgr import TaskContext

#: The chart keeps a point each time the count of points drawn has grown by this factor
#: (and always the latest): the fast-moving start and the long settled tail both show, as
#: they were, in a few hundred points whatever the run's length.
GROWTH = 1.04
#: At most this many points on the chart (1,000 to 1,000,000,000 points at GROWTH: 353).
MAX_POINTS = 400


def estimate_pi(ctx: TaskContext, *, samples: int, batch: int, seed: int) -> dict[str, Any]:
    """Draw ``samples`` points in batches; publish the estimate after each batch or so."""
    import numpy as np  # imported here so that listing jobs stays fast

    rng = np.random.default_rng(seed)
    throttle = ReportThrottle()
    kept: list[dict[str, float]] = []
    series: list[dict[str, float]] = []
    next_mark = 0.0
    done = inside = 0
    while done < samples:
        size = min(batch, samples - done)
        x = rng.random(size)
        y = rng.random(size)
        inside += int(np.count_nonzero(x * x + y * y <= 1.0))
        done += size
        latest = {"x": done, "y": 4.0 * inside / done}
        if done >= next_mark and len(kept) < MAX_POINTS - 1:
            kept.append(latest)
            next_mark = done * GROWTH
        series = kept if kept[-1] is latest else [*kept, latest]
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
            1_000_000_000,
            minimum=1,
            maximum=1_000_000_000,
            help="More points give a closer estimate; the error shrinks like 1/sqrt(points).",
        ),
        Param(
            "batch",
            "Points per batch",
            "int",
            1_000_000,
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
