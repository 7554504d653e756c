"""taskmgr.compat against the code it replaces, streamlit-octostar-utils 0.9.16, in one run.

- burst: N tiny tasks submitted at once on a 10-worker handler, until the last is final;
- round trip: one tiny task submitted and joined, one after another (median and p99);
- idle: the process's CPU time while a handler has nothing to do.

Each figure is printed beside octostar's, measured in the same run, with the ratio
octostar / ours (above 1: ours is faster or cheaper). Run:
    .venv/bin/python bench/bench_compat.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from streamlit_octostar_utils.threading.async_task_manager import (  # noqa: E402
    AsyncTaskManager as Octostar,
)

from taskmgr.compat import AsyncTaskManager as Ours  # noqa: E402

Factory = Callable[[int], Any]
IMPLEMENTATIONS: tuple[tuple[str, Factory], ...] = (("octostar", Octostar), ("ours", Ours))


def tiny(task_data: Any, n: int) -> int:
    return n


def burst(make: Factory, tasks: int) -> float:
    """Seconds from the first submit until the last task is final."""
    manager = make(10)
    try:
        started = time.perf_counter()
        for n in range(tasks):
            manager.submit(f"t{n}", tiny, {"n": n})
        for n in range(tasks):
            manager.join(f"t{n}")
        return time.perf_counter() - started
    finally:
        manager.join_all()


def round_trips(make: Factory, count: int) -> list[float]:
    """Seconds from submit to join returning, one task at a time."""
    manager = make(10)
    try:
        times = []
        for n in range(count):
            started = time.perf_counter()
            manager.submit("one", tiny, {"n": n})
            manager.join("one")
            times.append(time.perf_counter() - started)
        return times
    finally:
        manager.join_all()


def idle_cpu(make: Factory, seconds: float) -> float:
    """Process CPU seconds per second while a handler that ran one task sits idle."""
    manager = make(10)
    try:
        manager.submit("warm", tiny, {"n": 0})
        manager.join("warm")
        before_cpu, before = time.process_time(), time.perf_counter()
        time.sleep(seconds)  # ok: measuring what an idle handler costs
        return (time.process_time() - before_cpu) / (time.perf_counter() - before)
    finally:
        manager.join_all()


def p99(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.99 * len(values)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    tasks, trips, idle_s = (300, 40, 1.0) if args.quick else (3000, 200, 3.0)

    print(f"burst of {tasks:,} tiny tasks, 10 workers: seconds until the last is final")
    results = {name: burst(make, tasks) for name, make in IMPLEMENTATIONS}
    ratio = results["octostar"] / results["ours"]
    print(f"  octostar {results['octostar']:.3f}  ours {results['ours']:.3f}  ratio {ratio:.2f}x")

    print(f"round trip, submit -> join, {trips} times: milliseconds")
    trip_times = {name: round_trips(make, trips) for name, make in IMPLEMENTATIONS}
    for name, values in trip_times.items():
        median_ms, p99_ms = 1000 * statistics.median(values), 1000 * p99(values)
        print(f"  {name:<9} median {median_ms:.3f}  p99 {p99_ms:.3f}")
    ratio = statistics.median(trip_times["octostar"]) / statistics.median(trip_times["ours"])
    print(f"  median ratio {ratio:.2f}x")

    print(f"idle handler (10 workers) over {idle_s:g} s: CPU seconds per second")
    idle = {name: idle_cpu(make, idle_s) for name, make in IMPLEMENTATIONS}
    ratio = idle["octostar"] / max(idle["ours"], 1e-6)
    print(f"  octostar {idle['octostar']:.4f}  ours {idle['ours']:.4f}  ratio {ratio:.0f}x")


if __name__ == "__main__":
    main()
