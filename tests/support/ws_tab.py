"""A browser tab on the wire: a ``WsSession`` that also does what the frontend does between runs.

On top of ``WsSession`` it sends the browser's time zone, opens a given page, keeps the
ids of the widgets it was shown, submits a form with chosen values, and, like the
frontend, reruns a polling fragment on its own timer: an ``auto_rerun`` message arms a
timer that sends a fragment rerun every ``interval`` seconds; a ``stop_auto_rerun``
message, or the start of a full script run, disarms it. Each fragment run that finishes
is an update the tab saw (``updates``, monotonic seconds).

Each tab opened by ``open_tabs`` is a browser of its own (its own server-issued cookie,
so its own owner and its own jobs), as many users would be; ``browsers=`` opens tabs of
given browsers instead, e.g. two tabs of one user.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.support.wait import DEFAULT_TIMEOUT_S
from tests.support.ws_client import USER_AGENT, Browser, StreamlitWsClient, WsSession

TIMEZONE = "Europe/Rome"


class LiveTab(WsSession):
    """One tab with its widget values, its fragment timers and the updates it saw."""

    def __init__(
        self,
        client: StreamlitWsClient,
        query_string: str,
        user_agent: str,
        page: str,
        browser: Browser | None = None,
    ) -> None:
        super().__init__(client, query_string, user_agent, browser)
        self.page = page
        self.page_script_hash = ""
        #: Widget id -> label, for every widget the tab was shown.
        self.widgets: dict[str, str] = {}
        #: Monotonic times at which a fragment run finished (what the user sees move).
        self.updates: list[float] = []
        #: The progress bar's text in the latest run that drew one, and every one seen.
        self.progress_text = ""
        self.progress_texts: list[str] = []
        #: The bodies of the alerts (st.success, st.error...) of the latest full run.
        self.alerts: list[str] = []
        #: The markdown and text bodies of the latest full run (``texts`` may be a fragment's).
        self.page_texts: list[str] = []
        self._run_alerts: list[str] = []
        self.fragment_reruns_sent = 0
        self._values: dict[str, str] = {}
        self._timers: dict[str, tuple[float, asyncio.Task[None]]] = {}

    @property
    def polling(self) -> bool:
        """True while a fragment timer is armed (the page refreshes itself)."""
        return bool(self._timers)

    def submit(
        self, button_key: str, values: Mapping[str, str], timeout: float = DEFAULT_TIMEOUT_S
    ) -> None:
        """Type ``values`` (widget key suffix -> text) and press the form button ``button_key``."""
        self._client.call(self._submit(button_key, values, timeout), timeout + 5)

    # -- on the client's event loop ------------------------------------------------------

    async def _start(self, timeout: float, wait_run: bool = True) -> None:
        await self._connect()
        await self._send(wait=wait_run, timeout=timeout)

    async def _submit(self, button_key: str, values: Mapping[str, str], timeout: float) -> None:
        for suffix, text in values.items():
            self._values[self._widget_id(suffix)] = text
        await self._send(trigger=self._widget_id(button_key), wait=True, timeout=timeout)

    def _widget_id(self, key: str) -> str:
        for widget_id in self.widgets:
            if widget_id.endswith(f"-{key}"):
                return widget_id
        raise AssertionError(f"no widget with key {key!r} on the page; seen: {list(self.widgets)}")

    async def _send(
        self,
        *,
        fragment_id: str = "",
        trigger: str = "",
        wait: bool = False,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        """A rerun request as the frontend sends it: widget values, time zone, page, fragment."""
        if self._connection is None or self._changed is None:
            raise RuntimeError("not connected")
        target = self.runs_finished + 1
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page
        state.context_info.timezone = TIMEZONE
        state.fragment_id = fragment_id
        state.is_auto_rerun = bool(fragment_id)
        for widget_id, text in self._values.items():
            state.widget_states.widgets.add(id=widget_id, string_value=text)
        if trigger:
            state.widget_states.widgets.add(id=trigger, trigger_value=True)
        await self._connection.send(message.SerializeToString())
        if not wait:
            return
        changed = self._changed
        async with asyncio.timeout(timeout):
            async with changed:
                await changed.wait_for(lambda: self.runs_finished >= target)

    async def _on_message(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "navigation":
            self.page_script_hash = message.navigation.page_script_hash
        if kind == "new_session":
            if not message.metadata.run.fragment_ids:
                self._disarm_all()  # a full run: the frontend drops every timer
                self._run_alerts = []
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            self._note_element(message)
        elif kind == "auto_rerun":
            self._arm(message.auto_rerun.fragment_id, message.auto_rerun.interval)
        elif kind == "stop_auto_rerun":
            for fragment_id in message.stop_auto_rerun.fragment_ids:
                self._disarm(fragment_id)
        elif kind == "script_finished":
            if message.script_finished == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                self.updates.append(time.monotonic())
            elif message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                self.alerts = self._run_alerts
                self.page_texts = list(self._run_texts)
        await super()._on_message(message)

    def _note_element(self, message: ForwardMsg) -> None:
        element = message.delta.new_element
        which = element.WhichOneof("type")
        if which is None:
            return
        if which == "progress":
            self.progress_text = element.progress.text
            self.progress_texts.append(self.progress_text)
            return
        if which == "alert":
            self._run_alerts.append(element.alert.body)
            return
        body = getattr(element, which)
        widget_id = getattr(body, "id", "")
        if widget_id and isinstance(widget_id, str):
            self.widgets[widget_id] = str(getattr(body, "label", ""))

    def _arm(self, fragment_id: str, interval: float) -> None:
        current = self._timers.get(fragment_id)
        if current is not None and current[0] == interval:
            return  # the frontend keeps a running timer of the same interval
        self._disarm(fragment_id)
        timer = asyncio.create_task(self._tick(fragment_id, interval))
        self._timers[fragment_id] = (interval, timer)

    def _disarm(self, fragment_id: str) -> None:
        entry = self._timers.pop(fragment_id, None)
        if entry is not None:
            entry[1].cancel()

    def _disarm_all(self) -> None:
        for fragment_id in list(self._timers):
            self._disarm(fragment_id)

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """``setInterval``: a fragment rerun every ``interval`` s, whether or not one is running."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due += interval
            await asyncio.sleep(max(0.0, due - loop.time()))  # ok: the emulated browser timer
            if self._connection is None:
                return
            with contextlib.suppress(Exception):
                await self._send(fragment_id=fragment_id)
                self.fragment_reruns_sent += 1

    async def _stop_reader(self) -> None:
        self._disarm_all()
        await super()._stop_reader()


def open_tabs(
    client: StreamlitWsClient,
    count: int,
    *,
    page: str = "",
    user_agent: str = USER_AGENT,
    browsers: Sequence[Browser] | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> list[LiveTab]:
    """``count`` tabs on ``page`` (its URL path, e.g. "Jobs"), each past its first run.

    Each tab is a new browser, unless ``browsers`` (one per tab) says whose tab it is.
    """
    if browsers is None:
        browsers = [Browser.fetch(client.ws_url, timeout) for _ in range(count)]
    if len(browsers) != count:
        raise ValueError(f"{count} tabs need {count} browsers, got {len(browsers)}")
    tabs = [LiveTab(client, "", user_agent, page, browser) for browser in browsers]
    client.sessions.extend(tabs)

    async def start_all() -> None:
        await asyncio.gather(*(tab._start(timeout) for tab in tabs))

    client.call(start_all(), timeout + 10)
    return tabs


def submit_all(
    client: StreamlitWsClient,
    tabs: Sequence[LiveTab],
    button_key: str,
    values: Mapping[str, str],
    timeout: float = DEFAULT_TIMEOUT_S,
) -> None:
    """Every tab submits the same form at (nearly) the same moment."""

    async def submit_each() -> None:
        await asyncio.gather(*(tab._submit(button_key, values, timeout) for tab in tabs))

    client.call(submit_each(), timeout + 10)
