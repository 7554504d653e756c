"""The REST API through nginx against straight to uvicorn, on a stack started by ./main.sh.

Prints:
- submit-and-poll round trips per second (one client: submit a tiny job, poll its task
  until SUCCESS), straight to uvicorn (the baseline) and through nginx, and the ratio;
- p50/p99 latency of ``GET /api/tasks/{id}`` under 50 concurrent clients (httpx), both
  ways, and the ratios.
Run:
    .venv/bin/python bench/bench_api.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the test helpers live in tests/support
    sys.path.insert(0, str(ROOT))

from tests.support.stack import ADMIN_TOKEN, Stack  # noqa: E402

CLIENTS = 50
TINY_JOB = {"samples": 1_000, "batch": 1_000}


def round_trips_per_second(base_url: str, token: str, rounds: int) -> float:
    """Submit, then poll until SUCCESS, ``rounds`` times in a row."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as client:
        start = time.perf_counter()
        for _ in range(rounds):
            answer = client.post("/api/jobs/monte_carlo_pi", json=TINY_JOB)
            answer.raise_for_status()
            task_id = answer.json()["id"]
            while client.get(f"/api/tasks/{task_id}").json()["status"] != "SUCCESS":
                pass
        return rounds / (time.perf_counter() - start)


async def _get_latencies(base_url: str, token: str, task_id: str, per_client: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=CLIENTS)
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=60, limits=limits
    ) as client:

        async def one_client() -> None:
            for _ in range(per_client):
                start = time.perf_counter()
                answer = await client.get(f"/api/tasks/{task_id}")
                latencies.append(time.perf_counter() - start)
                answer.raise_for_status()

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return latencies


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (smoke test)")
    args = parser.parse_args()
    rounds, per_client = (10, 4) if args.quick else (200, 40)
    stack = Stack(env={"TASKMGR_MAX_QUEUED_PER_OWNER": "10000"})
    try:
        stack.start()
        direct = f"http://127.0.0.1:{stack.api_port}"
        with httpx.Client(base_url=stack.url, timeout=30) as admin:
            answer = admin.post(
                "/api/tokens",
                json={"name": "bench"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            answer.raise_for_status()
            token = answer.json()["token"]
        round_trips_per_second(direct, token, 3)  # warm up both paths
        round_trips_per_second(stack.url, token, 3)
        print(f"submit-and-poll round trips per second ({rounds} rounds, one client)")
        base = round_trips_per_second(direct, token, rounds)
        proxied = round_trips_per_second(stack.url, token, rounds)
        print(f"  uvicorn direct  {base:10.1f}/s   (baseline)")
        print(f"  through nginx   {proxied:10.1f}/s   ratio {proxied / base:.2f}x")

        headers = {"Authorization": f"Bearer {token}"}
        task_id = httpx.post(
            f"{direct}/api/jobs/monte_carlo_pi", json=TINY_JOB, headers=headers, timeout=30
        ).json()["id"]
        print(f"GET /api/tasks/{{id}} latency, {CLIENTS} concurrent clients x {per_client}")
        p50_base, p99_base = percentiles(
            asyncio.run(_get_latencies(direct, token, task_id, per_client))
        )
        p50, p99 = percentiles(asyncio.run(_get_latencies(stack.url, token, task_id, per_client)))
        print(f"  uvicorn direct  p50 {p50_base * 1e3:8.1f} ms  p99 {p99_base * 1e3:8.1f} ms")
        print(
            f"  through nginx   p50 {p50 * 1e3:8.1f} ms  p99 {p99 * 1e3:8.1f} ms"
            f"   ratio p50 {p50 / p50_base:.2f}x  p99 {p99 / p99_base:.2f}x"
        )
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
