"""A newcomer's wait while another owner has 50 long jobs queued: the default reserve
against no reserve, measured in one run.

Owner A submits 50 jobs of ``--job-s`` seconds each to a pool of 8 workers; then owner B
submits one job, and the time until B's function starts is measured. The baseline is the
same pool without a reserve (``max_running_per_owner=max_workers``): B waits for one of
A's jobs to end. Run:
    .venv/bin/python bench/bench_reserve.py [--job-s 2.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from taskmgr import AsyncTaskManager, TaskContext

WORKERS = 8
QUEUED = 50


def newcomer_wait(reserve: bool, job_s: float) -> float:
    """Seconds from B's submit to B's function running."""
    cap = None if reserve else WORKERS
    started = threading.Event()
    with AsyncTaskManager(WORKERS, max_running_per_owner=cap) as mgr:
        busy = threading.Semaphore(0)

        def long_job(ctx: TaskContext) -> None:
            busy.release()
            ctx.sleep(job_s)

        def newcomer(ctx: TaskContext) -> None:
            started.set()

        for n in range(QUEUED):
            mgr.submit(n, long_job, owner="a")
        for _ in range(WORKERS - mgr.reserve):
            busy.acquire()
        began = time.perf_counter()
        mgr.submit("b", newcomer, owner="b")
        started.wait()
        waited = time.perf_counter() - began
        mgr.cancel_all()
    return waited


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-s", type=float, default=2.0, help="length of A's jobs")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ours = [newcomer_wait(True, args.job_s) for _ in range(args.runs)]
    base = [newcomer_wait(False, args.job_s) for _ in range(args.runs)]
    ours_ms, base_ms = statistics.median(ours) * 1000, statistics.median(base) * 1000
    print(f"newcomer's wait, {QUEUED} long jobs of another owner queued, {WORKERS} workers")
    print(
        f"  default reserve: {ours_ms:9.2f} ms (median of {args.runs}, max {max(ours) * 1000:.2f})"
    )
    print(f"  no reserve:      {base_ms:9.2f} ms (baseline: waits for a job of {args.job_s:g} s)")
    print(f"  ratio (no reserve / reserve): {base_ms / ours_ms:,.0f}x")


if __name__ == "__main__":
    main()
