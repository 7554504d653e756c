"""AsyncTaskManager against a raw ThreadPoolExecutor, measured in one run.

Prints throughput, submit-to-start latency, cancel latency, retained memory and
idle CPU, each beside its baseline and as a ratio; then ``async def`` tasks: their
throughput against plain tasks, and how fast a cancel interrupts a long await. Run:
    .venv/bin/python bench/bench_taskmgr.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from countdown import Countdown

from taskmgr import AsyncTaskManager, TaskContext

WORKERS = 8


def throughput(n_tasks: int, runs: int) -> dict[str, float]:
    """Tasks per second for ``n_tasks`` no-op tasks, submit to last completion."""

    def raw() -> float:
        with ThreadPoolExecutor(WORKERS) as pool:
            countdown = Countdown(n_tasks)
            start = time.perf_counter()
            for _ in range(n_tasks):
                pool.submit(countdown.tick)
            countdown.done.wait()
            return time.perf_counter() - start

    def ours(owners: int) -> Callable[[], float]:
        def measure() -> float:
            with AsyncTaskManager(WORKERS, max_queued_per_owner=n_tasks) as mgr:
                countdown = Countdown(n_tasks)
                start = time.perf_counter()
                for i in range(n_tasks):
                    mgr.submit(i, countdown.tick, owner=i % owners)
                countdown.done.wait()
                return time.perf_counter() - start

        return measure

    # Interleaved, so that a noisy neighbour slows every contender alike.
    contenders = {"raw": raw, "ours_1_owner": ours(1), "ours_50_owners": ours(50)}
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(runs):
        for name, measure in contenders.items():
            times[name].append(measure())
    return {name: n_tasks / statistics.median(values) for name, values in times.items()}


def start_latency(samples: int) -> dict[str, list[float]]:
    """Seconds from submit() to the task's first line, on an idle pool."""
    started = threading.Event()
    stamp = [0.0]

    def mark(*_: Any) -> None:
        stamp[0] = time.perf_counter()
        started.set()

    def collect(submit: Callable[[int], object]) -> list[float]:
        out = []
        for i in range(samples + 50):
            started.clear()
            t0 = time.perf_counter()
            submit(i)
            started.wait()
            if i >= 50:  # the first ones warm up the threads
                out.append(stamp[0] - t0)
        return out

    with ThreadPoolExecutor(WORKERS) as pool:
        raw = collect(lambda i: pool.submit(mark))
    with AsyncTaskManager(WORKERS, max_results=100) as mgr:
        ours = collect(lambda i: mgr.submit(i % 200, mark))
    return {"raw": raw, "ours": ours}


def cancel_latency(samples: int) -> dict[str, list[float]]:
    """Seconds from a cancel request to the task being final, for a task waiting in a sleep."""
    raw: list[float] = []
    with ThreadPoolExecutor(WORKERS) as pool:
        for _ in range(samples):
            stop = threading.Event()
            waiting = threading.Event()

            def sleeper(stop: threading.Event = stop, waiting: threading.Event = waiting) -> None:
                waiting.set()
                stop.wait(3600)

            future: Future[None] = pool.submit(sleeper)
            waiting.wait()
            t0 = time.perf_counter()
            stop.set()
            future.result()
            raw.append(time.perf_counter() - t0)

    ours: list[float] = []
    with AsyncTaskManager(WORKERS, max_results=100) as mgr:
        for i in range(samples):
            waiting = threading.Event()

            def nap(ctx: TaskContext, waiting: threading.Event = waiting) -> None:
                waiting.set()
                ctx.sleep(3600)

            mgr.submit(i, nap)
            waiting.wait()
            t0 = time.perf_counter()
            mgr.cancel(i)
            mgr.join(i)
            ours.append(time.perf_counter() - t0)
    return {"raw": raw, "ours": ours}


def async_throughput(n_tasks: int, runs: int) -> dict[str, float]:
    """Tasks per second for ``n_tasks`` short tasks: plain functions, coroutines, and the
    same coroutines as bare asyncio tasks on one loop (asyncio's own cost, no manager)."""

    def raw_asyncio() -> float:
        async def short() -> None:
            await asyncio.sleep(0)

        async def run_all() -> float:
            loop = asyncio.get_running_loop()
            start = time.perf_counter()
            await asyncio.gather(*(loop.create_task(short()) for _ in range(n_tasks)))
            return time.perf_counter() - start

        return asyncio.run(run_all())

    def measure(kind: str) -> float:
        with AsyncTaskManager(WORKERS, max_queued_per_owner=n_tasks) as mgr:
            done = threading.Event()
            left = [n_tasks]
            lock = threading.Lock()

            def count() -> None:
                with lock:
                    left[0] -= 1
                    if not left[0]:
                        done.set()

            def plain(ctx: TaskContext) -> None:
                count()

            async def coroutine(ctx: TaskContext) -> None:
                await asyncio.sleep(0)  # one trip through the loop, as any await would
                count()

            fn = plain if kind == "plain" else coroutine
            start = time.perf_counter()
            for i in range(n_tasks):
                mgr.submit(i, fn)
            done.wait()
            return time.perf_counter() - start

    times: dict[str, list[float]] = {"plain": [], "async": [], "raw_asyncio": []}
    for _ in range(runs):
        for kind, values in times.items():
            values.append(raw_asyncio() if kind == "raw_asyncio" else measure(kind))
    return {kind: n_tasks / statistics.median(values) for kind, values in times.items()}


def async_cancel_latency(samples: int) -> dict[str, list[float]]:
    """Seconds from a cancel request to the task being final, for a task in a long await:
    a coroutine blocked in ``await ctx.asleep(3600)``, beside a plain task in ``ctx.sleep``."""

    def collect(make: Callable[[threading.Event], Callable[..., Any]]) -> list[float]:
        out: list[float] = []
        with AsyncTaskManager(WORKERS, max_results=100) as mgr:
            for i in range(samples):
                waiting = threading.Event()
                mgr.submit(i, make(waiting))
                waiting.wait()
                t0 = time.perf_counter()
                mgr.cancel(i)
                mgr.join(i)
                out.append(time.perf_counter() - t0)
        return out

    def coroutine(waiting: threading.Event) -> Callable[..., Any]:
        async def nap(ctx: TaskContext) -> None:
            waiting.set()
            await ctx.asleep(3600)

        return nap

    def plain(waiting: threading.Event) -> Callable[..., Any]:
        def nap(ctx: TaskContext) -> None:
            waiting.set()
            ctx.sleep(3600)

        return nap

    return {"plain": collect(plain), "async": collect(coroutine)}


def retained_memory(n_tasks: int) -> dict[str, float]:
    """Bytes still held after ``n_tasks`` finished tasks with distinct 1 KB results."""

    def result(ctx: TaskContext | None, i: int) -> str:
        return f"{i:08d}" + os.urandom(508).hex()  # 1,024 characters, all distinct

    def measure(make: Callable[[], Callable[[], None]]) -> float:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        run = make()
        run()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return float(after - before)

    keep: list[Any] = []

    def unbounded() -> Callable[[], None]:
        """A raw executor with a dict of results kept for polling (octostar's way)."""

        def run() -> None:
            results: dict[int, Future[str]] = {}
            with ThreadPoolExecutor(WORKERS) as pool:
                for i in range(n_tasks):
                    results[i] = pool.submit(result, None, i)
                wait(list(results.values()))
            keep.append(results)

        return run

    def ours(**settings: Any) -> Callable[[], Callable[[], None]]:
        def make() -> Callable[[], None]:
            def run() -> None:
                mgr = AsyncTaskManager(WORKERS, **settings)
                for i in range(n_tasks):
                    mgr.submit(i, result, {"i": i}, owner=i % 1000)
                mgr.shutdown(wait=True, cancel=False)
                keep.append(mgr)

            return run

        return make

    figures = {
        "raw_unbounded": measure(unbounded),
        "ours_default": measure(ours()),
        "ours_max_results_1000": measure(ours(max_results=1000)),
    }
    keep.clear()
    return figures


def idle_cpu(seconds: float) -> dict[str, float]:
    """CPU seconds the process uses while a warmed-up pool sits idle."""

    def measure(pool_kind: str) -> float:
        if pool_kind == "raw":
            pool = ThreadPoolExecutor(WORKERS)
            wait([pool.submit(time.sleep, 0) for _ in range(WORKERS * 2)])
            close: Callable[[], None] = pool.shutdown
        else:
            mgr = AsyncTaskManager(WORKERS)
            for i in range(WORKERS * 2):
                mgr.submit(i, lambda ctx: None, timeout_s=3600)
            for i in range(WORKERS * 2):
                mgr.join(i)
            close = mgr.shutdown
        cpu0 = time.process_time()
        time.sleep(seconds)  # the measurement itself: nothing should run meanwhile
        used = time.process_time() - cpu0
        close()
        return used

    return {"raw": measure("raw"), "ours": measure("ours")}


def _ms(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args()
    runs, samples, memory_tasks = (3, 200, 5_000) if args.quick else (15, 1000, 50_000)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {WORKERS} workers\n")

    tp = throughput(5_000, runs)
    print("Throughput, 5,000 no-op tasks (tasks/s, median of runs)")
    print(f"  raw ThreadPoolExecutor     {tp['raw']:>10,.0f}")
    for key, label in (("ours_1_owner", "1 owner"), ("ours_50_owners", "50 owners")):
        print(f"  AsyncTaskManager {label:<9} {tp[key]:>10,.0f}   ratio {tp[key] / tp['raw']:.2f}x")

    # A lock convoy (GIL hand-offs landing inside the manager's lock) shows as a ratio
    # well below this line's, where the interpreter switches threads 10x less often.
    default_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.05)
    try:
        slow_switch = throughput(5_000, runs)
    finally:
        sys.setswitchinterval(default_interval)
    ratio = slow_switch["ours_1_owner"] / slow_switch["raw"]
    print(f"  at a 50 ms GIL switch interval: raw {slow_switch['raw']:,.0f}, ", end="")
    print(f"ours (1 owner) {slow_switch['ours_1_owner']:,.0f}   ratio {ratio:.2f}x")

    lat = start_latency(samples)
    print(f"\nSubmit-to-start latency on an idle pool ({samples} samples, ms)")
    for key in ("raw", "ours"):
        print(f"  {key:<5} median {_ms(lat[key], 0.5):.3f}   p99 {_ms(lat[key], 0.99):.3f}")
    print(f"  ratio of medians {_ms(lat['ours'], 0.5) / _ms(lat['raw'], 0.5):.2f}x")

    cl = cancel_latency(samples // 5)
    print(f"\nCancel-to-final latency, task waiting in a sleep ({samples // 5} samples, ms)")
    print(f"  raw (Event.set -> future done)  median {_ms(cl['raw'], 0.5):.3f}")
    ratio = _ms(cl["ours"], 0.5) / _ms(cl["raw"], 0.5)
    print(f"  ours (cancel -> CANCELLED)      median {_ms(cl['ours'], 0.5):.3f}", end="")
    print(f"   p99 {_ms(cl['ours'], 0.99):.3f}   ratio {ratio:.2f}x")

    mem = retained_memory(memory_tasks)
    print(f"\nMemory retained after {memory_tasks:,} finished tasks with 1 KB results (MiB)")
    base = mem["raw_unbounded"]
    for key, label in (
        ("raw_unbounded", "raw executor + results dict"),
        ("ours_default", "ours, max_results=10,000"),
        ("ours_max_results_1000", "ours, max_results=1,000"),
    ):
        print(f"  {label:<28} {mem[key] / 2**20:>8.1f}   ratio {mem[key] / base:.2f}x")

    cpu = idle_cpu(3.0)
    print("\nIdle CPU over 3 s (ms of CPU)")
    print(f"  raw {1000 * cpu['raw']:.2f}   ours {1000 * cpu['ours']:.2f}")

    n_short = 10_000
    at = async_throughput(n_short, runs)
    print(f"\nThroughput, {n_short:,} short tasks, one owner (tasks/s, median of runs)")
    print(f"  plain functions ({WORKERS} workers)   {at['plain']:>10,.0f}")
    ratio = at["async"] / at["plain"]
    print(f"  async def (max_async=100)   {at['async']:>10,.0f}   ratio {ratio:.2f}x")
    raw = at["raw_asyncio"]
    print(f"  raw asyncio, one loop       {raw:>10,.0f}   async def / raw {at['async'] / raw:.2f}x")

    acl = async_cancel_latency(samples // 5)
    print(f"\nCancel-to-final latency, task blocked in a long await ({samples // 5} samples, ms)")
    print(f"  plain, in ctx.sleep          median {_ms(acl['plain'], 0.5):.3f}", end="")
    print(f"   p99 {_ms(acl['plain'], 0.99):.3f}")
    ratio = _ms(acl["async"], 0.5) / _ms(acl["plain"], 0.5)
    print(f"  async, in await ctx.asleep   median {_ms(acl['async'], 0.5):.3f}", end="")
    print(f"   p99 {_ms(acl['async'], 0.99):.3f}   ratio {ratio:.2f}x")


if __name__ == "__main__":
    main()
