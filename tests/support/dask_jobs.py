"""Task functions for the Dask tests: in a module, so that workers import them by name."""

from __future__ import annotations

import math
import os
from typing import Any


def add(ctx: Any, a: int, b: int) -> int:
    return a + b


def report_steps(ctx: Any, steps: int) -> str:
    for i in range(steps):
        ctx.report(progress=(i + 1) / steps, message=f"step {i + 1}", data={"i": i})
    return "done"


def sleep_forever(ctx: Any) -> None:
    ctx.report(message="sleeping")
    ctx.sleep(math.inf)


def fail(ctx: Any, text: str) -> None:
    raise ValueError(text)


def exit_process(ctx: Any) -> None:
    ctx.report(message="about to die")
    os._exit(3)


def ignore_cancel(ctx: Any, seconds: float) -> str:
    """Spins without looking at cancel: only a restart of its worker ends it."""
    ctx.report(message="busy")
    deadline = os.times().elapsed + seconds
    while os.times().elapsed < deadline:
        pass
    return "finished"


def worker_pid(ctx: Any) -> int:
    return os.getpid()


def nap(ctx: Any, seconds: float) -> float:
    ctx.sleep(seconds)
    return seconds
