"""Fetch many pages from a slow API at once: an ``async def`` job (I/O-bound, no thread held).

The job starts a local stand-in for a remote API (``jobs/orders_api.py``) and
fetches ``pages`` pages with at most ``concurrency`` requests in flight, through one
``asyncio.gather``. A cancel interrupts every request at once, wherever it waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from jobs.orders_api import OrdersApi, PageFetchFailed, fetch_page
from jobs.pacing import ReportThrottle
from jobs.spec import Job, JobParamError, Param
from taskmgr import TaskContext

__all__ = ["JOB", "PageFetchFailed", "fetch_pages"]


async def fetch_pages(
    ctx: TaskContext, *, pages: int, concurrency: int, latency_s: float, fail_page: int
) -> list[dict[str, Any]]:
    """One table row per page, in page order; the rows so far are the partial result."""
    rows: dict[int, dict[str, Any]] = {}
    in_flight = 0
    limit = asyncio.Semaphore(concurrency)
    throttle = ReportThrottle()
    loop = asyncio.get_running_loop()

    def publish(message: str) -> None:
        ctx.report(progress=len(rows) / pages, message=message, data=_in_order(rows))

    async with OrdersApi(latency_s, fail_page) as api:

        async def fetch(page: int) -> None:
            nonlocal in_flight
            async with limit:
                in_flight += 1
                if not rows and in_flight == min(concurrency, pages):
                    publish(f"0/{pages:,} pages fetched, {in_flight} in flight")  # at once
                started = loop.time()
                try:
                    payload, size = await fetch_page(api.port, page)
                except PageFetchFailed:
                    rows[page] = _row(page, [], 0, loop.time() - started, "failed")
                    publish(f"page {page} failed")
                    raise
                finally:
                    in_flight -= 1
            rows[page] = _row(page, payload["orders"], size, loop.time() - started, "ok")
            if len(rows) == pages or throttle.due():
                publish(f"{len(rows):,}/{pages:,} pages fetched, {in_flight} in flight")

        await asyncio.gather(*(fetch(page) for page in range(1, pages + 1)))
    return _in_order(rows)


def _row(
    page: int, orders: list[dict[str, str]], size: int, seconds: float, status: str
) -> dict[str, Any]:
    return {
        "page": page,
        "status": status,
        "orders": len(orders),
        "revenue": round(sum(_revenue(order) for order in orders), 2),
        "bytes": size,
        "latency_ms": round(seconds * 1000.0, 1),
    }


def _revenue(order: Mapping[str, str]) -> float:
    """What an order brought in; a blank discount (there are some) means none."""
    discount = float(order["discount"] or 0)
    return int(order["quantity"]) * float(order["unit_price"]) * (1.0 - discount)


def _in_order(rows: Mapping[int, dict[str, Any]]) -> list[dict[str, Any]]:
    return [rows[page] for page in sorted(rows)]


def _check(params: Mapping[str, Any]) -> None:
    if params["fail_page"] > params["pages"]:
        raise JobParamError(
            f"fail_page: page {params['fail_page']:,} is past the last page "
            f"(pages={params['pages']:,}); use 0 to never fail",
            "fail_page",
        )


JOB = Job(
    key="fetch_pages",
    title="Fetch pages concurrently (async)",
    description=(
        "An async job: starts a local stand-in for a slow remote API and fetches many pages "
        "of orders from it at once, with a cap on requests in flight. Waiting requests hold "
        "no thread, and a cancel stops them all at once. Set fail_page to see one failed "
        "request end the whole job."
    ),
    fn=fetch_pages,
    params=(
        Param(
            "pages", "Pages", "int", 100, minimum=1, maximum=1_000, help="How many pages to fetch."
        ),
        Param(
            "concurrency",
            "Requests in flight",
            "int",
            10,
            minimum=1,
            maximum=100,
            help="At most this many requests wait for an answer at once.",
        ),
        Param(
            "latency_s",
            "Seconds per request",
            "float",
            0.25,
            minimum=0.001,
            maximum=10,
            help="Average time the API takes to answer (each varies between half and 1.5x).",
        ),
        Param(
            "fail_page",
            "Fail at page",
            "int",
            0,
            minimum=0,
            maximum=1_000,
            help="The API refuses this page, which fails the job; 0 means never.",
        ),
    ),
    result_kind="table",
    check=_check,
)
