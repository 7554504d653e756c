"""A stand-in for a slow remote API, so that an I/O-bound job can run offline.

A local HTTP server over the bundled orders: ``GET /orders/<page>`` answers one
page of orders as JSON after a simulated network latency. It speaks just enough
HTTP/1.0 (one request per connection, closed after the answer) for ``fetch_page``.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
from functools import cache
from types import TracebackType
from typing import Any

from jobs.sample_csv import SAMPLE_CSV

PAGE_SIZE = 25


class PageFetchFailed(RuntimeError):
    """The API refused a page (on purpose: ``fail_page`` demonstrates the ERROR status)."""


@cache
def sample_orders() -> tuple[dict[str, str], ...]:
    """The bundled orders, read once per process (4,000 rows)."""
    with SAMPLE_CSV.open(newline="", encoding="utf-8") as handle:
        return tuple(csv.DictReader(handle))


def page_of(orders: tuple[dict[str, str], ...], page: int) -> list[dict[str, str]]:
    """Page ``page`` (from 1) of ``PAGE_SIZE`` orders; pages past the end wrap around."""
    start = ((page - 1) * PAGE_SIZE) % len(orders)
    return list(orders[start : start + PAGE_SIZE])


def latency_factor(page: int) -> float:
    """A repeatable factor between 0.5 and 1.5, so latencies vary like real calls do."""
    return random.Random(page).uniform(0.5, 1.5)


class OrdersApi:
    """``async with OrdersApi(latency_s, fail_page) as api``: serving on ``api.port``."""

    def __init__(self, latency_s: float, fail_page: int = 0) -> None:
        self.latency_s = latency_s
        self.fail_page = fail_page
        self.port = 0
        self._orders = sample_orders()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> OrdersApi:
        self._server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await reader.readline()
            while (await reader.readline()).strip():  # the headers: not needed here
                pass
            status, body = await self._respond(request.decode("latin-1").split())
            writer.write(
                f"HTTP/1.0 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n".encode("ascii")
                + body
            )
            await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            # The client went away, or the job ended and the server closes: nothing to
            # answer. Not re-raised: Python 3.11's start_server logs a cancelled handler
            # as an error ("Exception in callback ... connection_made").
            pass
        finally:
            writer.close()

    async def _respond(self, request: list[str]) -> tuple[str, bytes]:
        if len(request) != 3 or request[0] != "GET" or not request[1].startswith("/orders/"):
            return "404 Not Found", b'{"error": "only GET /orders/<page> is served"}'
        number = request[1].removeprefix("/orders/")
        if not number.isdigit() or int(number) < 1:
            return "400 Bad Request", b'{"error": "the page is a whole number from 1"}'
        page = int(number)
        await asyncio.sleep(self.latency_s * latency_factor(page))
        if page == self.fail_page:
            return "503 Service Unavailable", b'{"error": "simulated outage"}'
        payload = {"page": page, "orders": page_of(self._orders, page)}
        return "200 OK", json.dumps(payload).encode("utf-8")


async def fetch_page(port: int, page: int) -> tuple[dict[str, Any], int]:
    """``GET /orders/<page>`` from the local API: its JSON and its size in bytes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET /orders/{page} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode("ascii"))
        await writer.drain()
        answer = await reader.read()  # HTTP/1.0: the server closes after the body
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode("latin-1").partition(" ")[2]  # "200 OK"
    if not status.startswith("200"):
        raise PageFetchFailed(
            f"page {page}: the API answered {status or 'nothing'}: "
            f"{body.decode('utf-8', 'replace')}"
        )
    payload: dict[str, Any] = json.loads(body)
    return payload, len(body)
