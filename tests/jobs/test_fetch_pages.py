"""fetch_pages: an async job over a real local HTTP server; partial tables, failure, cancel."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from jobs import get_job
from jobs.fetch_pages import PageFetchFailed
from jobs.orders_api import PAGE_SIZE, OrdersApi, fetch_page, page_of, sample_orders
from taskmgr import AsyncTaskManager, TaskStatus
from taskmgr.async_lane import is_coroutine_function
from tests.jobs.conftest import WAIT_S, Recorder, run_job, start_job

T = TypeVar("T")


def run_apart(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: the suite's browser tests leave a loop
    running on the main thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=WAIT_S)


def test_it_is_an_async_job() -> None:
    assert is_coroutine_function(get_job("fetch_pages").fn)


def test_every_page_becomes_a_row_in_page_order(manager: AsyncTaskManager) -> None:
    raw = {"pages": 30, "concurrency": 8, "latency_s": 0.01}
    final = run_job(manager, "fetch_pages", raw)
    assert final.status is TaskStatus.SUCCESS, final.error
    rows = final.result
    assert [row["page"] for row in rows] == list(range(1, 31))
    for row in rows:
        assert set(row) == {"page", "status", "orders", "revenue", "bytes", "latency_ms"}
        assert row["status"] == "ok" and row["orders"] == PAGE_SIZE
        assert row["revenue"] > 0 and row["bytes"] > 1000
    assert final.progress == 1.0
    assert final.message == "30/30 pages fetched, 0 in flight"
    assert json.loads(json.dumps(rows)) == rows


def test_pages_past_the_data_wrap_around() -> None:
    orders = sample_orders()
    last = len(orders) // PAGE_SIZE
    assert page_of(orders, last + 1) == page_of(orders, 1)
    assert page_of(orders, 2)[0]["order_id"] == "26"


def test_the_partial_table_grows(manager: AsyncTaskManager, recorder: Recorder) -> None:
    final = run_job(manager, "fetch_pages", {"pages": 40, "concurrency": 2, "latency_s": 0.02})
    partials = recorder.partials("fetch_pages")
    assert len(partials) >= 2  # every 0.1 s over roughly 0.4 s of requests
    sizes = [len(snap.data) for snap in partials]
    assert sizes == sorted(sizes) and sizes[-1] == 40
    assert partials[0].data == []  # published as soon as the first requests are out
    first = next(snap.data for snap in partials if snap.data)
    assert first == [row for row in final.result if row["page"] in {r["page"] for r in first}]


def test_a_refused_page_fails_the_whole_gather(manager: AsyncTaskManager) -> None:
    raw = {"pages": 12, "concurrency": 3, "latency_s": 0.01, "fail_page": 5}
    final = run_job(manager, "fetch_pages", raw)
    assert final.status is TaskStatus.ERROR
    assert isinstance(final.error, PageFetchFailed)
    assert str(final.error) == (
        'page 5: the API answered 503 Service Unavailable: {"error": "simulated outage"}'
    )
    failed = [row for row in final.data if row["status"] == "failed"]
    assert [row["page"] for row in failed] == [5]
    assert final.message == "page 5 failed"
    assert manager.stats().async_running == 0


def test_cancel_stops_every_request_in_flight(
    manager: AsyncTaskManager, recorder: Recorder
) -> None:
    start_job(manager, "fetch_pages", {"pages": 50, "concurrency": 50, "latency_s": 10})
    recorder.wait_for(lambda snap: snap.message == "0/50 pages fetched, 50 in flight")
    assert manager.cancel("fetch_pages")
    final = manager.join("fetch_pages", timeout=WAIT_S)
    assert final.status is TaskStatus.CANCELLED
    assert final.data == []  # no request got its 5-15 s answer: all were interrupted
    assert manager.stats().async_running == 0


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        ("GET /orders/0 HTTP/1.0", "400"),
        ("GET /orders/two HTTP/1.0", "400"),
        ("GET /admin HTTP/1.0", "404"),
        ("POST /orders/1 HTTP/1.0", "404"),
        ("<script>", "404"),
    ],
)
def test_the_api_answers_bad_requests_plainly(request_line: str, status: str) -> None:
    async def ask() -> bytes:
        async with OrdersApi(latency_s=0.001) as api:
            reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
            writer.write(request_line.encode() + b"\r\n\r\n")
            answer = await reader.read()
            writer.close()
            return answer

    answer = run_apart(ask())
    assert answer.split(b" ")[1].decode() == status


def test_fetch_page_reads_one_page() -> None:
    async def fetch() -> tuple[dict[str, object], int]:
        async with OrdersApi(latency_s=0.001) as api:
            return await fetch_page(api.port, 3)

    payload, size = run_apart(fetch())
    assert payload["page"] == 3 and size > 0
    assert payload["orders"] == page_of(sample_orders(), 3)
