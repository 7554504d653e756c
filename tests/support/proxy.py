"""A loopback TCP relay that can cut every connection through it: a real network blip.

Point a browser or client at ``proxy.port`` instead of the server's port; ``drop()``
aborts every open connection (both sides see a reset, as when Wi-Fi drops), and
new connections go through again at once, so the client reconnects by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future


class TcpProxy:
    """Relays 127.0.0.1:``port`` to 127.0.0.1:``target_port`` on its own event-loop thread."""

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.target_port = target_port
        self.host = host
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._transports: set[asyncio.BaseTransport] = set()
        self._server: asyncio.AbstractServer | None = None
        started: Future[None] = Future()
        self._thread = threading.Thread(
            target=self._serve, args=(started,), name="tcp-proxy", daemon=True
        )
        self._thread.start()
        started.result(timeout=10)

    def drop(self) -> int:
        """Abort every open connection; returns how many pairs of ends were cut."""
        future = asyncio.run_coroutine_threadsafe(self._drop(), self._loop)
        return future.result(timeout=10)

    def close(self) -> None:
        if self._loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self, started: Future[None]) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._relay, self.host, 0)
            )
            self.port = self._server.sockets[0].getsockname()[1]
        except BaseException as exc:
            started.set_exception(exc)
            return
        started.set_result(None)
        self._loop.run_forever()

    async def _relay(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(
                self.host, self.target_port
            )
        except OSError:
            client_writer.transport.abort()
            return
        ends = (client_writer.transport, server_writer.transport)
        self._transports.update(ends)
        try:
            await asyncio.gather(
                self._pipe(client_reader, server_writer), self._pipe(server_reader, client_writer)
            )
        finally:
            self._transports.difference_update(ends)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _drop(self) -> int:
        transports = list(self._transports)
        self._transports.clear()
        for transport in transports:
            transport.abort()  # type: ignore[attr-defined]
        return len(transports) // 2

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop()
