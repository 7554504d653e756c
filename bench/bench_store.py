"""The task manager with the store attached against without it, measured in one run.

Prints:
- throughput of 5,000 no-op tasks (1 owner, then 50), by the clock and per second of the
  process's CPU time (steadier on a shared machine), with no listener (the baseline),
  a listener that does nothing (what any listener costs the manager) and the store (on
  SQLite, and on PostgreSQL when ``--pg-url`` or ``TEST_DATABASE_URL_PG`` names one);
- sustained progress reports per second from 8 tasks reporting as fast as they can,
  store off and on, the ratio, and how many rows the writer actually wrote (coalescing).
Run:
    .venv/bin/python bench/bench_store.py [--quick] [--pg-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import threading
import time

from countdown import Countdown

from store import DurableStore, StoreSettings
from taskmgr import AsyncTaskManager, TaskContext

WORKERS = 8


#: The contenders: no listener (the baseline), a listener that does nothing (what any
#: listener costs the manager), and the store on each database.
NO_LISTENER = "off"
NOOP_LISTENER = "no-op listener"


def tasks_per_second(n_tasks: int, owners: int, url: str) -> tuple[float, float, float]:
    """Submit ``n_tasks`` no-op tasks: tasks per second until the last one finished, the
    same per second of this process's CPU time (every thread's; steadier than the clock
    on a shared machine), and tasks per second until the writer had also put every one
    of them in the database."""
    durable = _durable(url) if url not in (NO_LISTENER, NOOP_LISTENER) else None
    try:
        with AsyncTaskManager(WORKERS, max_queued_per_owner=n_tasks) as manager:
            if durable is not None:
                durable.attach_manager(manager)
            elif url == NOOP_LISTENER:
                manager.add_listener(lambda snapshot: None)
            countdown = Countdown(n_tasks)
            # The store's set-up (schema check, connections) leaves garbage behind: it is
            # collected before the clock starts, for every contender alike.
            gc.collect()
            start_cpu = time.process_time()
            start = time.perf_counter()
            for i in range(n_tasks):
                manager.submit(i, countdown.tick, owner=i % owners, name="noop")
            countdown.done.wait()
            finished = time.perf_counter() - start
            cpu = time.process_time() - start_cpu
            if durable is not None:
                durable.writer.flush()
            stored = time.perf_counter() - start
            return n_tasks / finished, n_tasks / cpu, n_tasks / stored
    finally:
        if durable is not None:
            durable.close()


def reports_per_second(seconds: float, url: str) -> tuple[float, int]:
    """Progress reports per second from ``WORKERS`` tasks; and the rows the writer wrote."""
    durable = _durable(url) if url not in (NO_LISTENER, NOOP_LISTENER) else None
    stop = threading.Event()
    counts = [0] * WORKERS
    try:
        with AsyncTaskManager(WORKERS) as manager:
            if durable is not None:
                durable.attach_manager(manager)
            elif url == NOOP_LISTENER:
                manager.add_listener(lambda snapshot: None)

            def reporter(ctx: TaskContext, slot: int) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    ctx.report(progress=(n % 1000) / 1000, message=f"step {n}", data=n)
                counts[slot] = n

            gc.collect()
            for slot in range(WORKERS):
                manager.submit(slot, reporter, {"slot": slot}, name="reporter")
            time.sleep(seconds)  # the measuring window
            stop.set()
            for slot in range(WORKERS):
                manager.join(slot, timeout=30)
        written = 0
        if durable is not None:
            durable.writer.flush()
            written = durable.writer.health().written
        return sum(counts) / seconds, written
    finally:
        if durable is not None:
            durable.close()


def _durable(url: str) -> DurableStore:
    durable = DurableStore(StoreSettings(url=url, heartbeat_s=1.0))
    durable.open()
    return durable.start()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer tasks and runs")
    parser.add_argument("--pg-url", default=os.environ.get("TEST_DATABASE_URL_PG"))
    parser.add_argument("--runs", type=int, default=9, help="interleaved runs per contender")
    args = parser.parse_args()
    n_tasks, runs, window = (1000, 1, 0.5) if args.quick else (5000, args.runs, 3.0)

    with tempfile.TemporaryDirectory(prefix="bench-store-") as folder:
        databases = {"SQLite": f"sqlite:///{folder}/bench.db"}
        if args.pg_url:
            databases["PostgreSQL"] = args.pg_url
        targets = {NO_LISTENER: NO_LISTENER, NOOP_LISTENER: NOOP_LISTENER}
        targets.update({f"store {name}": url for name, url in databases.items()})

        for owners in (1, 50):
            print(
                f"Throughput: {n_tasks:,} no-op tasks, {WORKERS} workers, {owners} owner(s), "
                f"median of {runs} interleaved runs"
            )
            # Interleaved, so that a noisy neighbour slows every contender alike.
            finished: dict[str, list[float]] = {name: [] for name in targets}
            per_cpu: dict[str, list[float]] = {name: [] for name in targets}
            stored: dict[str, list[float]] = {name: [] for name in targets}
            for _ in range(runs):
                for name, url in targets.items():
                    done_rate, cpu_rate, stored_rate = tasks_per_second(n_tasks, owners, url)
                    finished[name].append(done_rate)
                    per_cpu[name].append(cpu_rate)
                    stored[name].append(stored_rate)
            baseline = statistics.median(finished[NO_LISTENER])
            best_baseline = max(finished[NO_LISTENER])
            cpu_baseline = statistics.median(per_cpu[NO_LISTENER])
            for name, url in targets.items():
                rate = statistics.median(finished[name])
                best = max(finished[name])
                cpu_ratio = statistics.median(per_cpu[name]) / cpu_baseline
                line = (
                    f"  {name:<18} {rate:>9,.0f} tasks/s   ratio {rate / baseline:.2f}x"
                    f"   (best runs: {best / best_baseline:.2f}x; per CPU second: {cpu_ratio:.2f}x)"
                )
                if url in databases.values():
                    all_in = statistics.median(stored[name])
                    line += f"   all rows in the database: {all_in:,.0f} tasks/s"
                print(line)

        print(f"Progress reports: {WORKERS} tasks reporting for {window:g} s")
        base_rate, _ = reports_per_second(window, NO_LISTENER)
        print(f"  {'off':<18} {base_rate:>9,.0f} reports/s ratio 1.00x")
        noop_rate, _ = reports_per_second(window, NOOP_LISTENER)
        noop_ratio = noop_rate / base_rate
        print(f"  {NOOP_LISTENER:<18} {noop_rate:>9,.0f} reports/s ratio {noop_ratio:.2f}x")
        for name, url in databases.items():
            rate, written = reports_per_second(window, url)
            print(
                f"  {'store ' + name:<18} {rate:>9,.0f} reports/s ratio {rate / base_rate:.2f}x"
                f"   ({written:,} rows written: coalesced)"
            )


if __name__ == "__main__":
    main()
