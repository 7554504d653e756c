"""The benchmarks still run: a short run of each prints every figure beside its baseline.

The figures themselves are not asserted (machines differ; see bench/); only that each
section is measured and compared, so a change cannot quietly break a benchmark.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_bench(*args: str, timeout: float) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_task_manager_benchmark_prints_every_ratio() -> None:
    out = run_bench("bench/bench_taskmgr.py", "--quick", timeout=100)
    for label in ("1 owner", "50 owners"):
        assert re.search(rf"AsyncTaskManager {label} +[\d,]+ +ratio \d+\.\d\dx", out), out
    assert re.search(r"at a 50 ms GIL switch interval: .* ratio \d+\.\d\dx", out), out
    assert re.search(r"ours +median \d+\.\d{3} +p99 \d+\.\d{3}", out), out
    assert re.search(r"ours \(cancel -> CANCELLED\) +median \d+\.\d{3}", out), out
    assert re.search(r"ours, max_results=1,000 +\d+\.\d +ratio 0\.\d\dx", out), out
    assert re.search(r"raw \d+\.\d\d +ours \d+\.\d\d", out), out
    assert re.search(r"async def \(max_async=100\) +[\d,]+ +ratio \d+\.\d\dx", out), out
    assert re.search(r"raw asyncio, one loop +[\d,]+ +async def / raw \d+\.\d\dx", out), out
    assert re.search(r"async, in await ctx.asleep +median \d+\.\d{3} +p99 \d+\.\d{3}", out), out


def test_the_compat_benchmark_prints_octostar_beside_ours() -> None:
    out = run_bench("bench/bench_compat.py", "--quick", timeout=100)
    assert re.search(r"octostar \d+\.\d{3} +ours \d+\.\d{3} +ratio \d+\.\d\dx", out), out
    assert re.search(r"median ratio \d+\.\d\dx", out), out
    assert re.search(r"octostar \d+\.\d{4} +ours \d+\.\d{4} +ratio \d+x", out), out


@pytest.mark.server
def test_the_session_benchmark_prints_latencies_and_the_baseline_ratio() -> None:
    out = run_bench(
        "bench/bench_sessions.py", "--sizes", "3", "--graces", "0", "--budget-s", "60", timeout=110
    )
    assert re.search(r"baseline / tracker = [\d,.]+x", out), out
    assert re.search(r"Worst end latency past the grace window: [\d.]+ ms", out), out
    assert re.search(r"^ +0 +none +\d+ +\d+ +\d+\.\d{3} +\d+\.\d{3}$", out, re.MULTILINE), out


@pytest.mark.timeout(300)
def test_the_backends_benchmark_prints_dask_beside_threads() -> None:
    out = run_bench("bench/bench_backends.py", "--quick", timeout=280)
    assert re.search(r"no-op throughput .* ratio \d+\.\d{3}x", out), out
    assert re.search(r"submit-to-start median .* ratio [\d.]+x", out), out
    assert re.search(r"cancel in ctx.sleep median .* dask \d+\.\d{4} +ratio [\d.]+x", out), out
    assert re.search(r"CPU-bound jobs .* speed-up \d+\.\d\dx", out), out


def test_the_store_benchmark_prints_every_ratio() -> None:
    out = run_bench("bench/bench_store.py", "--quick", timeout=100)
    for owners in (1, 50):
        assert f"{owners} owner(s)" in out, out
    assert len(re.findall(r"store SQLite +[\d,]+ tasks/s +ratio \d+\.\d\dx", out)) == 2, out
    assert len(re.findall(r"store PostgreSQL +[\d,]+ tasks/s +ratio \d+\.\d\dx", out)) == 2, out
    assert re.search(r"store SQLite +[\d,]+ reports/s ratio \d+\.\d\dx +\([\d,]+ rows", out), out


@pytest.mark.timeout(240)
def test_the_api_benchmark_prints_nginx_against_uvicorn() -> None:
    out = run_bench("bench/bench_api.py", "--quick", timeout=230)
    assert re.search(r"uvicorn direct +[\d.]+/s +\(baseline\)", out), out
    assert re.search(r"through nginx +[\d.]+/s +ratio \d+\.\d\dx", out), out
    assert re.search(r"through nginx +p50 +[\d.]+ ms +p99 +[\d.]+ ms +ratio p50 \d+\.\d\dx", out), (
        out
    )


@pytest.mark.server
def test_the_load_benchmark_prints_both_apps_and_the_ratios_to_the_floor() -> None:
    out = run_bench(
        "bench/load_sessions.py",
        *("--sizes", "3", "--window-s", "2", "--warmup-s", "1", "--more-step", "0", "--no-doc"),
        timeout=150,
    )
    gaps = r"\d+\.\d\d \| \d+\.\d\d \| \d+\.\d\d"
    assert re.search(rf"^\| floor \| 3 \| {gaps} \| \d+ \|", out, re.M), out
    assert re.search(r"^\| app \| 3 \| .* \| \d+\.\d\dx \| \d+\.\d\dx \|$", out, re.M), out
