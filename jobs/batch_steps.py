"""A batch of slow, I/O-like steps (think: one network call per item), one after another."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from typing import Any

from jobs.pacing import ReportThrottle
from jobs.spec import Job, JobParamError, Param
from taskmgr import TaskContext


class StepFailed(RuntimeError):
    """A step of the batch failed (on purpose: ``fail_at`` demonstrates the ERROR status)."""


def run_steps(ctx: TaskContext, *, steps: int, step_s: float, fail_at: int) -> list[dict[str, Any]]:
    """Wait about ``step_s`` per step (waking at once on cancel); one table row per step."""
    rows: list[dict[str, Any]] = []
    throttle = ReportThrottle()
    for step in range(1, steps + 1):
        started = time.monotonic()
        ctx.sleep(step_s * _jitter(step))
        latency_ms = round((time.monotonic() - started) * 1000.0, 1)
        row = {
            "step": step,
            "item": f"item-{step:05d}",
            "status": "ok",
            "latency_ms": latency_ms,
            "bytes": _payload_size(step),
        }
        if step == fail_at:
            rows.append({**row, "status": "failed", "bytes": 0})
            ctx.report(message=f"step {step}/{steps} failed", data=list(rows))
            raise StepFailed(
                f"step {step} of {steps} failed: simulated upstream error for "
                f"{row['item']} (the job was asked to fail at step {fail_at})"
            )
        rows.append(row)
        if step == steps or throttle.due():
            ctx.report(progress=step / steps, message=f"step {step}/{steps} done", data=list(rows))
    return rows


def _jitter(step: int) -> float:
    """A repeatable factor between 0.5 and 1.5, so latencies vary like real calls do."""
    return random.Random(step).uniform(0.5, 1.5)


def _payload_size(step: int) -> int:
    return random.Random(-step).randrange(200, 20_000)


def _check(params: Mapping[str, Any]) -> None:
    if params["fail_at"] > params["steps"]:
        raise JobParamError(
            f"fail_at: step {params['fail_at']:,} is past the last step "
            f"(steps={params['steps']:,}); use 0 to never fail",
            "fail_at",
        )


JOB = Job(
    key="batch_steps",
    title="Batch of slow steps",
    description=(
        "Processes items one by one, each step waiting like a network call would, and "
        "adds a row per step to a growing table. Set fail_at to see how a failure is shown."
    ),
    fn=run_steps,
    params=(
        Param(
            "steps",
            "Steps",
            "int",
            120,
            minimum=1,
            maximum=10_000,
            help="How many items to process.",
        ),
        Param(
            "step_s",
            "Seconds per step",
            "float",
            0.25,
            minimum=0.001,
            maximum=60,
            help="Average time one step waits (each varies between half and one and a half).",
        ),
        Param(
            "fail_at",
            "Fail at step",
            "int",
            0,
            minimum=0,
            maximum=10_000,
            help="Make this step fail with an error; 0 means never.",
        ),
    ),
    result_kind="table",
    check=_check,
)
