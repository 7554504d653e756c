"""The tracker against a real server and real browser tabs (headless Chromium)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from tests.sessions.tracker_server import TrackerServer, start_tracker_server
from tests.support.fixtures import ServerFactory
from tests.support.proxy import TcpProxy
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.browser]

GRACE_S = 4.0  # longer than a page reload takes on a slow, busy machine
HEARTBEAT_S = 0.5


@pytest.fixture(scope="module")
def tracked(
    streamlit_server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> TrackerServer:
    return start_tracker_server(
        streamlit_server_factory,
        tmp_path_factory.mktemp("browser"),
        grace_s=GRACE_S,
        heartbeat_s=HEARTBEAT_S,
    )


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile per test (its tabs are closed at the end if still open)."""
    profile = browser.new_context()
    yield profile
    profile.close()


@dataclass
class Tab:
    page: Page
    session_id: str
    owner: str
    marker: str
    job: str | None


def page_fields(page: Page) -> dict[str, str]:
    """The app's ``key=value`` text lines, as a dict."""
    fields: dict[str, str] = {}
    for line in page.locator('[data-testid="stText"]').all_inner_texts():
        key, _, value = line.strip().partition("=")
        fields[key] = value
    return fields


def read_tab(page: Page, previous_session: str | None = None) -> Tab:
    """Wait until the page shows a session (a new one, if ``previous_session`` is given)."""

    def shown() -> dict[str, str] | None:
        fields = page_fields(page)
        fresh = fields.get("session") != previous_session
        return fields if fields.get("ready") and fresh else None

    fields = wait_until(shown, message="the page to show its session")
    return Tab(page, fields["session"], fields["owner"], fields["marker"], fields.get("job"))


def open_tab(context: BrowserContext, url: str) -> Tab:
    page = context.new_page()
    page.goto(url)
    return read_tab(page)


def test_tab_start_is_tracked_with_its_client_and_session_state(
    tracked: TrackerServer, context: BrowserContext
) -> None:
    tab = open_tab(context, tracked.server.url)

    start = tracked.events.wait_for("start", sid=tab.session_id)[0]
    assert "Chrome" in start["user_agent"]
    assert start["client_ip"] == "127.0.0.1"
    # The session's own on_start ran in its first script run and read its st.session_state.
    assert tracked.events.wait_for("cb_start", sid=tab.session_id)[0]["marker"] == tab.marker
    # The owner comes from the browser's cookie and stays out of the URL.
    assert tab.owner.startswith("browser:") and "owner=" not in tab.page.url
    # A tick may see the session before its first run registers or finishes: wait for one after.
    beat = tracked.events.wait_for(
        "heartbeat",
        sid=tab.session_id,
        where=lambda beat: beat["registered"] and beat["script_runs"] >= 1,
    )[0]
    assert beat["owner"] == tab.owner
    assert beat["page"] == "tracker_app"


def test_heartbeats_come_tick_after_tick(tracked: TrackerServer, context: BrowserContext) -> None:
    tab = open_tab(context, tracked.server.url)

    beats = tracked.events.wait_for("heartbeat", count=8, sid=tab.session_id)[:8]
    times = [beat["last_heartbeat"] for beat in beats]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap > 0 for gap in gaps), gaps  # one per tick (their pace: bench_sessions.py)
    callbacks = tracked.events.wait_for("cb_heartbeat", count=8, sid=tab.session_id)
    assert {event["marker"] for event in callbacks} == {tab.marker}


def test_closed_tab_ends_after_its_grace_window(
    tracked: TrackerServer, context: BrowserContext
) -> None:
    tab = open_tab(context, tracked.server.url)
    tracked.events.wait_for("start", sid=tab.session_id)

    closed_at = time.time()
    tab.page.close()

    end = tracked.ended(tab.session_id)
    assert end["t"] - closed_at >= GRACE_S  # never before the grace window ran out
    assert tracked.events.wait_for("cb_end", sid=tab.session_id)[0]["marker"] == tab.marker
    assert len(tracked.events.events("start", sid=tab.session_id)) == 1


def test_network_blip_resumes_the_same_session(
    tracked: TrackerServer, context: BrowserContext
) -> None:
    with TcpProxy(tracked.server.port) as proxy:
        tab = open_tab(context, f"http://127.0.0.1:{proxy.port}/")
        tracked.events.wait_for("heartbeat", sid=tab.session_id)

        assert proxy.drop() >= 1
        disconnect = tracked.events.wait_for("disconnect", sid=tab.session_id)[0]
        resume = tracked.events.wait_for("resume", sid=tab.session_id)[0]
        assert resume["t"] > disconnect["t"]
        assert tracked.events.events("end", sid=tab.session_id) == []  # back inside the grace
        # Heartbeats go on past the end of the grace window the blip opened...
        tracked.events.wait_for(
            "heartbeat",
            sid=tab.session_id,
            where=lambda beat: beat["t"] > disconnect["disconnected_at"] + GRACE_S + HEARTBEAT_S,
        )
        # ...for the same session, which neither ended nor started again.
        assert tracked.events.events("end", sid=tab.session_id) == []
        assert len(tracked.events.events("start", sid=tab.session_id)) == 1
        assert page_fields(tab.page)["session"] == tab.session_id
        tab.page.close()
        tracked.ended(tab.session_id)


def test_refresh_keeps_the_owners_job_then_closing_the_tab_cancels_it(
    tracked: TrackerServer, context: BrowserContext
) -> None:
    tab = open_tab(context, f"{tracked.server.url}/?job=1")
    assert tab.job is not None and tab.job.startswith("IN_PROGRESS")

    tab.page.reload()
    refreshed = read_tab(tab.page, previous_session=tab.session_id)

    # A new session of the same owner, showing the same running job (not a new one).
    assert refreshed.owner == tab.owner
    assert refreshed.job == tab.job
    old_end = tracked.ended(tab.session_id)
    assert old_end["owner"] == tab.owner
    assert not [
        task
        for task in tracked.events.events("task", owner=tab.owner)
        if task["status"] in ("CANCELLING", "CANCELLED")
    ]

    closed_at = time.time()
    refreshed.page.close()
    cancelled = tracked.events.wait_for("task", owner=tab.owner, status="CANCELLED")[0]
    assert cancelled["t"] - closed_at >= GRACE_S  # never before the grace window


def test_closing_the_last_tab_cancels_its_job_after_the_grace_window(
    tracked: TrackerServer, context: BrowserContext
) -> None:
    tab = open_tab(context, f"{tracked.server.url}/?job=1")
    assert tab.job is not None and tab.job.startswith("IN_PROGRESS")

    closed_at = time.time()
    tab.page.close()

    cancelled = tracked.events.wait_for("task", owner=tab.owner, status="CANCELLED")[0]
    assert cancelled["t"] - closed_at >= GRACE_S  # never before the grace window
    assert tracked.ended(tab.session_id)["owner"] == tab.owner
