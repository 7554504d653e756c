"""What a long job costs the server while it runs: resident memory and CPU per task.

The task is the batch job's shape (jobs/batch_steps.py): wait about a second per step,
then add a row and report progress with the table so far. Three ways to run N of them,
each in a fresh process so that its resident memory is its own:

- ``raw``: a bare ``ThreadPoolExecutor`` of N threads running the same loop, without
  reporting (the baseline: what a thread per waiting job costs anyway);
- ``threads``: our manager, a plain function (a worker thread each);
- ``async``: our manager, the same loop as an ``async def`` job (no thread each).

Per variant it prints KiB of resident memory and CPU milliseconds per second per task,
and the ratios to the baseline. Run:

    .venv/bin/python bench/bench_task_cost.py [--tasks 200] [--window-s 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script
    sys.path.insert(0, str(ROOT))

from taskmgr import AsyncTaskManager, TaskContext  # noqa: E402

VARIANTS = ("raw", "threads", "async")
#: One variant's figures, as the child process prints them (JSON).
Figures = dict[str, Any]
#: Steps enough to outlast any window: the tasks are cancelled at the end.
STEPS = 100_000


def rss_kib() -> int:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def _row(step: int) -> dict[str, Any]:
    return {"step": step, "item": f"item-{step:05d}", "status": "ok", "bytes": 200 + step}


def batch(ctx: TaskContext, step_s: float, started: Callable[[], None]) -> None:
    started()
    rows: list[dict[str, Any]] = []
    for step in range(1, STEPS + 1):
        ctx.sleep(step_s)
        rows.append(_row(step))
        ctx.report(progress=step / STEPS, message=f"step {step} done", data=list(rows))


async def async_batch(ctx: TaskContext, step_s: float, started: Callable[[], None]) -> None:
    started()
    rows: list[dict[str, Any]] = []
    for step in range(1, STEPS + 1):
        await ctx.asleep(step_s)
        rows.append(_row(step))
        ctx.report(progress=step / STEPS, message=f"step {step} done", data=list(rows))


def raw_batch(stop: threading.Event, step_s: float, started: Callable[[], None]) -> None:
    started()
    rows: list[dict[str, Any]] = []
    for step in range(1, STEPS + 1):
        if stop.wait(step_s):
            return
        rows.append(_row(step))


class Started:
    """Counts tasks that began; ``wait`` returns once all ``expected`` have."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self._count = 0
        self._all = threading.Condition()

    def __call__(self) -> None:
        with self._all:
            self._count += 1
            self._all.notify_all()

    def wait(self, timeout: float) -> None:
        with self._all:
            if not self._all.wait_for(lambda: self._count >= self.expected, timeout):
                raise TimeoutError(f"{self._count} of {self.expected} tasks started")


def measure(variant: str, tasks: int, step_s: float, settle_s: float, window_s: float) -> Figures:
    """In this process: start ``tasks`` batches, then read memory and CPU over the window."""
    started = Started(tasks)
    stop = threading.Event()
    manager = AsyncTaskManager(max_workers=tasks + 1, max_async=tasks + 1)
    pool = ThreadPoolExecutor(max_workers=tasks + 1)
    warm, warm_stop = Started(1), threading.Event()  # lazily made threads, loops, caches
    if variant == "raw":
        pool.submit(raw_batch, warm_stop, 0.001, warm)
    else:
        fn = async_batch if variant == "async" else batch
        manager.submit("warm", fn, {"step_s": 0.001, "started": warm})
    warm.wait(60)
    time.sleep(settle_s)  # the warm task runs some steps, then ends
    warm_stop.set()
    if variant != "raw":
        manager.cancel("warm")
        manager.join("warm", timeout=60)
    before = rss_kib()
    for n in range(tasks):
        if variant == "raw":
            pool.submit(raw_batch, stop, step_s, started)
        else:
            fn = async_batch if variant == "async" else batch
            manager.submit(n, fn, {"step_s": step_s, "started": started}, owner=f"user-{n}")
    started.wait(120)
    time.sleep(settle_s)
    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(window_s)
    cpu1, t1 = time.process_time(), time.monotonic()
    after = rss_kib()
    stop.set()
    manager.shutdown(wait=True, cancel=True)
    pool.shutdown(wait=True)
    return {
        "variant": variant,
        "kib_per_task": (after - before) / tasks,
        "cpu_ms_per_s_per_task": 1000 * (cpu1 - cpu0) / (t1 - t0) / tasks,
    }


def run_child(variant: str, args: argparse.Namespace) -> Figures:
    command = [sys.executable, __file__, "--child", variant, "--tasks", str(args.tasks)]
    command += ["--step-s", str(args.step_s), "--settle-s", str(args.settle_s)]
    command += ["--window-s", str(args.window_s)]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    figures: Figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="long jobs running at once")
    parser.add_argument("--step-s", type=float, default=1.0, help="wait per step")
    parser.add_argument("--settle-s", type=float, default=3.0, help="before measuring")
    parser.add_argument("--window-s", type=float, default=20.0, help="CPU measured over it")
    parser.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = measure(args.child, args.tasks, args.step_s, args.settle_s, args.window_s)
        print(json.dumps(figures))
        return
    print(f"{args.tasks} long jobs running at once, one step every {args.step_s:g} s")
    print(f"{'':10}{'KiB/task':>10}{'ratio':>8}{'CPU ms/s/task':>16}{'ratio':>8}")
    base: Figures | None = None
    for variant in VARIANTS:
        figures = run_child(variant, args)
        base = base or figures
        kib, cpu = figures["kib_per_task"], figures["cpu_ms_per_s_per_task"]
        print(
            f"{variant:10}{kib:10.1f}{kib / base['kib_per_task']:7.2f}x"
            f"{cpu:16.3f}{cpu / base['cpu_ms_per_s_per_task']:7.2f}x"
        )


if __name__ == "__main__":
    main()
