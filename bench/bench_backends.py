"""The Dask runner against the thread runner, measured in one run on this machine.

Per-task overhead (no-op throughput, submit-to-start, cancel of a task in
``ctx.sleep``) and the speed-up of CPU-bound jobs with 2 worker processes over 2
threads, each printed beside its baseline as a ratio; and the same CPU-bound batch on a
bare ``ProcessPoolExecutor``, the ceiling the machine allows. Run:
    .venv/bin/python bench/bench_backends.py [--quick]
"""

from __future__ import annotations

import argparse
import math
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import psutil

from taskmgr import AsyncTaskManager, TaskContext, TaskSnapshot, TaskStatus

SLOTS = 2
CPU_JOBS = 4
#: The CPU-bound batch runs this many times per backend and the fastest counts: on a
#: shared machine a slower run measures the neighbours, not the backend.
CPU_REPEATS = 3


def noop(ctx: TaskContext) -> None:
    return None


def spin(ctx: TaskContext, n: int) -> int:
    """Pure-Python arithmetic: holds the GIL, as most real jobs' own code does."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def nap(ctx: TaskContext) -> None:
    ctx.report(message="sleeping")
    ctx.sleep(math.inf)


def throughput(mgr: AsyncTaskManager, n: int) -> float:
    """No-op tasks per second, first submit to last completion."""
    start = time.perf_counter()
    for i in range(n):
        mgr.submit(("noop", i), noop)
    for i in range(n):
        mgr.join(("noop", i), timeout=300)
    return n / (time.perf_counter() - start)


def _waiter(
    task_id: Any, message: str | None, status: TaskStatus | None
) -> tuple[Callable[[TaskSnapshot], None], threading.Event]:
    """A listener and the event it sets when ``task_id`` shows that message or status."""
    event = threading.Event()

    def listener(snap: TaskSnapshot) -> None:
        if snap.id != task_id:
            return
        if (message is not None and snap.message == message) or snap.status is status:
            event.set()

    return listener, event


def submit_to_start(mgr: AsyncTaskManager, n: int) -> float:
    """Median seconds from submit until the task reports from inside its function."""
    delays = []
    for i in range(n):
        listener, seen = _waiter(("start", i), "in", None)
        remove = mgr.add_listener(listener)
        start = time.perf_counter()
        mgr.submit(("start", i), _report_in)
        seen.wait(60)
        delays.append(time.perf_counter() - start)
        remove()
        mgr.join(("start", i), timeout=60)
    return statistics.median(delays)


def _report_in(ctx: TaskContext) -> None:
    ctx.report(message="in")


def cancel_latency(mgr: AsyncTaskManager, n: int) -> float:
    """Median seconds from cancel() of a task in ctx.sleep to its CANCELLED snapshot."""
    latencies = []
    for i in range(n):
        on_sleep, sleeping = _waiter(("cancel", i), "sleeping", None)
        on_end, cancelled = _waiter(("cancel", i), None, TaskStatus.CANCELLED)
        removers = [mgr.add_listener(on_sleep), mgr.add_listener(on_end)]
        mgr.submit(("cancel", i), nap)
        sleeping.wait(60)
        start = time.perf_counter()
        mgr.cancel(("cancel", i))
        cancelled.wait(60)
        latencies.append(time.perf_counter() - start)
        for remove in removers:
            remove()
    return statistics.median(latencies)


def cpu_seconds() -> float:
    """CPU time of this process and its descendants (a local cluster's workers) so far."""
    total = 0.0
    me = psutil.Process()
    for process in [me, *me.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def cpu_bound(mgr: AsyncTaskManager, n: int) -> tuple[float, float]:
    """Seconds for CPU_JOBS spinning jobs on SLOTS slots, and the cores they got meanwhile
    (CPU seconds over wall seconds: what the neighbours on a shared machine left)."""
    # One owner per slot, as on a server with several users: one owner alone gets all
    # slots but the reserve the pool keeps for newcomers (one of two).
    start, cpu_start = time.perf_counter(), cpu_seconds()
    for i in range(CPU_JOBS):
        mgr.submit(("cpu", i), spin, {"n": n}, owner=f"user-{i % SLOTS}")
    for i in range(CPU_JOBS):
        snap = mgr.join(("cpu", i), owner=f"user-{i % SLOTS}", timeout=600)
        assert snap.status is TaskStatus.SUCCESS, snap.error
    wall = time.perf_counter() - start
    return wall, (cpu_seconds() - cpu_start) / wall


def best_cpu_bound(mgr: AsyncTaskManager, n: int, repeats: int) -> tuple[float, float]:
    """The fastest of ``repeats`` CPU-bound batches."""
    return min(cpu_bound(mgr, n) for _ in range(repeats))


def spin_n(quick: bool) -> int:
    return 2_000_000 if quick else 30_000_000  # about 2 s a job: long jobs are the point


def _spin_alone(n: int) -> int:
    return spin(None, n)  # type: ignore[arg-type]  # spin never touches its context


def raw_processes(n: int, repeats: int) -> float:
    """The machine's ceiling: the CPU-bound batch on a bare pool of SLOTS processes."""
    with ProcessPoolExecutor(SLOTS) as pool:
        list(pool.map(_spin_alone, [1000] * SLOTS))  # the processes start
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            list(pool.map(_spin_alone, [n] * CPU_JOBS))
            best = min(best, time.perf_counter() - start)
    return best


def measure(mgr: AsyncTaskManager, quick: bool) -> dict[str, float]:
    n = spin_n(quick)
    cpu_bound(mgr, 1000)  # warm: workers import the module, threads start
    cpu, cores = best_cpu_bound(mgr, n, 1 if quick else CPU_REPEATS)
    return {
        "throughput": throughput(mgr, 50 if quick else 500),
        "start": submit_to_start(mgr, 5 if quick else 30),
        "cancel": cancel_latency(mgr, 3 if quick else 10),
        "cpu": cpu,
        "cores": cores,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {}
    for backend in ("threads", "dask"):
        started = time.perf_counter()
        mgr = AsyncTaskManager(max_workers=SLOTS, max_queued_per_owner=10_000, backend=backend)
        ready = time.perf_counter() - started
        try:
            results[backend] = {**measure(mgr, args.quick), "ready": ready}
        finally:
            mgr.shutdown(wait=True, cancel=True)
    raw = raw_processes(spin_n(args.quick), 1 if args.quick else CPU_REPEATS)
    t, d = results["threads"], results["dask"]
    print(f"{SLOTS} slots; dask: a local cluster of {SLOTS} worker processes")
    print(f"ready (runner start, s)       threads {t['ready']:.3f}  dask {d['ready']:.3f}")
    print(
        f"no-op throughput (tasks/s)    threads {t['throughput']:,.0f}  "
        f"dask {d['throughput']:,.0f}  ratio {d['throughput'] / t['throughput']:.3f}x"
    )
    print(
        f"submit-to-start median (s)    threads {t['start']:.4f}  dask {d['start']:.4f}  "
        f"ratio {d['start'] / t['start']:.1f}x"
    )
    print(
        f"cancel in ctx.sleep median (s) threads {t['cancel']:.4f}  dask {d['cancel']:.4f}  "
        f"ratio {d['cancel'] / t['cancel']:.1f}x"
    )
    print(
        f"{CPU_JOBS} CPU-bound jobs (s, best of {1 if args.quick else CPU_REPEATS})"
        f"  threads {t['cpu']:.2f}  dask {d['cpu']:.2f}  speed-up {t['cpu'] / d['cpu']:.2f}x"
    )
    print(
        f"  the same batch on a bare ProcessPoolExecutor({SLOTS}): {raw:.2f} s, "
        f"speed-up {t['cpu'] / raw:.2f}x over threads (the machine's ceiling)"
    )
    print(
        f"cores the CPU-bound jobs got    threads {t['cores']:.2f}  dask {d['cores']:.2f}"
        "  (CPU s / wall s; 2 workers need 2)"
    )


if __name__ == "__main__":
    main()
