"""Lightweight Streamlit sessions: a websocket client that speaks Streamlit's protocol.

A browser tab costs a renderer process; this costs a coroutine, so a test can
hold a hundred sessions on two cores. It does what the browser's frontend does
on the wire: connect to ``/_stcore/stream`` with the ``streamlit`` subprotocol
(the third entry of ``Sec-WebSocket-Protocol`` names a session to resume), send
a ``rerun_script`` ``BackMsg``, and read the ``ForwardMsg`` stream (from the
streamlit package's protobufs).

``StreamlitWsClient`` runs one event loop on a background thread and hands out
synchronous ``WsSession`` handles, so plain (non-async) tests can use it::

    with StreamlitWsClient(server.ws_url) as client:
        session = client.open("job=1")        # connected, first run finished
        session.close()                        # the tab closed
        blip = client.open(); blip.drop()      # connection lost without a close
        blip.resume()                          # reconnects to the same session id

A session opened with ``browser=`` (a ``Browser``) is a tab of that browser: it sends
the cookie the server issued to it, as a browser does with every websocket handshake,
so the app sees the browser's identity (its owner) and not a cookieless session's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import urllib.request
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, TypeVar
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.support.wait import DEFAULT_TIMEOUT_S

T = TypeVar("T")

USER_AGENT = "streamlit-taskpool-tests/1 (websocket client)"
#: The cookie Streamlit's server gives every browser (XSRF protection, on by default).
XSRF_COOKIE = "_streamlit_xsrf"


@dataclass(frozen=True)
class Browser:
    """One browser: the XSRF cookie the server issued to it, sent by each of its tabs."""

    xsrf_cookie: str

    @classmethod
    def fetch(cls, ws_url: str, timeout: float = DEFAULT_TIMEOUT_S) -> Browser:
        """A new browser: loads the health check, as the page does, and keeps the cookie."""
        with urllib.request.urlopen(
            f"{page_origin(ws_url)}/_stcore/health", timeout=timeout
        ) as response:
            jar: SimpleCookie = SimpleCookie()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar.load(header)
        morsel = jar.get(XSRF_COOKIE)
        if morsel is None or not morsel.value:
            raise AssertionError(f"the server set no {XSRF_COOKIE} cookie (XSRF protection off?)")
        return cls(morsel.value)

    def handshake_headers(self, ws_url: str) -> dict[str, str]:
        """What a browser adds to the websocket handshake: its cookie and the page's origin."""
        return {"Cookie": f"{XSRF_COOKIE}={self.xsrf_cookie}", "Origin": page_origin(ws_url)}


def page_origin(ws_url: str) -> str:
    """The origin of the page that opens ``ws_url`` (``http://host:port``)."""
    parts = urlsplit(ws_url)
    return f"{'https' if parts.scheme == 'wss' else 'http'}://{parts.netloc}"


class WsSession:
    """One Streamlit session held over a websocket; methods block until done.

    ``texts`` holds the markdown/text bodies of the latest script run, in order,
    and ``query_string`` the page's query string as the server last set it.
    """

    def __init__(
        self,
        client: StreamlitWsClient,
        query_string: str,
        user_agent: str,
        browser: Browser | None = None,
    ) -> None:
        self._client = client
        self.user_agent = user_agent
        #: The browser this tab belongs to; None: a client without cookies.
        self.browser = browser
        self.query_string = query_string
        self.session_id: str | None = None
        #: ``time.time()`` just before the latest close or drop.
        self.closed_at: float | None = None
        self.runs_finished = 0
        self.texts: list[str] = []
        self._run_texts: list[str] = []
        self._connection: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._changed: asyncio.Condition | None = None

    @property
    def connected(self) -> bool:
        return self._connection is not None

    def rerun(self, query_string: str | None = None, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Ask for a script run (as a widget change would) and wait until it finished."""
        self._client.call(self._rerun(query_string, timeout), timeout + 5)

    def close(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Close the websocket cleanly, as a closed tab does."""
        self._client.call(self._close(), timeout)

    def drop(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Cut the connection without a close handshake, as a network blip does."""
        self._client.call(self._drop(), timeout)

    def resume(self, timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Reconnect to the same session id (what the frontend does after a blip)."""
        if self.session_id is None:
            raise RuntimeError("this session never started, so there is nothing to resume")
        self._client.call(self._connect(resume=self.session_id), timeout)

    # -- on the client's event loop ------------------------------------------------------

    async def _connect(self, resume: str | None = None) -> None:
        await self._drop()
        # The frontend sends the XSRF cookie's value as the second subprotocol.
        xsrf = self.browser.xsrf_cookie if self.browser else "unused-xsrf"
        protocols = ["streamlit", xsrf] + ([resume] if resume else [])
        headers = self.browser.handshake_headers(self._client.ws_url) if self.browser else {}
        source = self._client.source_address
        self._connection = await connect(
            self._client.ws_url,
            subprotocols=[Subprotocol(protocol) for protocol in protocols],
            additional_headers=headers,
            user_agent_header=self.user_agent,
            proxy=None,
            compression=None,
            max_size=64 * 2**20,
            open_timeout=DEFAULT_TIMEOUT_S,
            local_addr=None if source is None else (source, 0),
        )
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read(self._connection))

    async def _start(self, timeout: float, wait_run: bool = True) -> None:
        await self._connect()
        await self._rerun(None, timeout, wait_run)

    async def _rerun(self, query_string: str | None, timeout: float, wait: bool = True) -> None:
        if self._connection is None or self._changed is None:
            raise RuntimeError("not connected")
        if query_string is not None:
            self.query_string = query_string
        target = self.runs_finished + 1
        message = BackMsg()
        message.rerun_script.query_string = self.query_string
        message.rerun_script.page_script_hash = ""
        await self._connection.send(message.SerializeToString())
        if not wait:
            return
        changed = self._changed
        async with asyncio.timeout(timeout):
            async with changed:
                await changed.wait_for(lambda: self.runs_finished >= target)

    async def _read(self, connection: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in connection:
                if isinstance(raw, bytes):
                    await self._handle(raw)

    async def _handle(self, raw: bytes) -> None:
        message = ForwardMsg()
        message.ParseFromString(raw)
        await self._on_message(message)

    async def _on_message(self, message: ForwardMsg) -> None:
        """One message from the server; a subclass may look at more of them."""
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self.session_id = message.new_session.initialize.session_id
            self._run_texts = []
        elif kind == "page_info_changed":
            self.query_string = message.page_info_changed.query_string
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            which = element.WhichOneof("type")
            if which in ("markdown", "text"):
                self._run_texts.append(getattr(element, which).body)
        elif kind == "script_finished":
            self.texts = self._run_texts
            changed = self._changed
            if changed is not None:
                async with changed:
                    self.runs_finished += 1
                    changed.notify_all()

    async def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self.closed_at = time.time()
            await connection.close()
        await self._stop_reader()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            self.closed_at = time.time()
            connection.transport.abort()
        await self._stop_reader()

    async def _stop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await reader


class StreamlitWsClient:
    """Opens ``WsSession``s against one server; owns the event loop they run on.

    ``source_address`` (a loopback address such as ``127.0.3.1``) is the address the
    connections come from: a proxy that routes by client address sees another client.
    """

    def __init__(self, ws_url: str, *, source_address: str | None = None) -> None:
        self.ws_url = ws_url
        self.source_address = source_address
        self.sessions: list[WsSession] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="ws-client", daemon=True
        )
        self._thread.start()

    def open(
        self,
        query_string: str = "",
        *,
        user_agent: str = USER_AGENT,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> WsSession:
        """A new session whose first script run has finished."""
        return self.open_many([query_string], user_agent=user_agent, timeout=timeout)[0]

    def open_many(
        self,
        query_strings: Sequence[str],
        *,
        user_agent: str = USER_AGENT,
        wait_run: bool = True,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> list[WsSession]:
        """One new session per query string, opened concurrently.

        Returns when every first script run finished, or with ``wait_run=False``
        as soon as each has connected and asked for its run.
        """
        sessions = [WsSession(self, query, user_agent) for query in query_strings]
        self.sessions.extend(sessions)

        async def start_all() -> None:
            await asyncio.gather(*(session._start(timeout, wait_run) for session in sessions))

        self.call(start_all(), timeout + 10)
        return sessions

    def close_many(self, sessions: Sequence[WsSession], timeout: float = DEFAULT_TIMEOUT_S) -> None:
        """Close these sessions' websockets at (nearly) the same moment."""

        async def close_all() -> None:
            await asyncio.gather(*(session._close() for session in sessions))

        self.call(close_all(), timeout)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT_S) -> T:
        """Run ``coroutine`` on the client's loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    def shutdown(self) -> None:
        """Close every session still open and stop the loop."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self.close_many([session for session in self.sessions if session.connected], 15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> StreamlitWsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()
