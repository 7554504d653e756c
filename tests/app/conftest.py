"""Fixtures for the reference app's tests: AppTest pages, and a real server with users.

AppTest runs the real page scripts in-process; ``run_every`` never fires there and
server-state is unavailable (``app.shared`` falls back to a process-local store), so
the real-server and real-browser tests in this package cover those, through the
helpers at the end of this file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from streamlit.testing.v1 import AppTest

from app import admin_view, broadcast
from app.services import services
from app.session import UserState
from sessions import runtime
from sessions.owner import owner_for_browser
from taskmgr import TaskSnapshot, TaskStatus
from tests.support.fixtures import ServerFactory
from tests.support.server import StreamlitServer

REPO_ROOT = Path(__file__).resolve().parents[2]
MAIN = REPO_ROOT / "streamlit_app.py"
JOBS_PAGE = "pages/1_Jobs.py"
ADMIN_PAGE = "pages/2_Admin.py"

AppFactory = Callable[..., AppTest]


#: Opens a page in a new browser context: a new user with a tab of their own.
UserFactory = Callable[[], Page]


@pytest.fixture
def make_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Builds AppTests of a page with a browser time zone; cancels their tasks afterwards."""
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    admin_view.login_throttle.clear()
    broadcast.clear()
    made: list[AppTest] = []

    def make(page: str | None = None, *, secrets: dict[str, Any] | None = None) -> AppTest:
        at = AppTest.from_file(str(MAIN), default_timeout=30)
        at.context = {"timezone": "Europe/Rome"}
        at.secrets.update(secrets or {})
        if page is not None:
            at.switch_page(page)
        made.append(at)
        return at

    yield make
    for at in made:
        state = at.session_state.get("app")
        if isinstance(state, UserState) and state.owner:
            services().manager.cancel_owner(state.owner)
    broadcast.clear()


def owner_of(at: AppTest) -> str:
    state = at.session_state["app"]
    assert isinstance(state, UserState)
    return state.owner


def texts(elements: Any) -> list[str]:
    return [str(element.value) for element in elements]


def snapshot(task_id: str, owner: str, status: TaskStatus, **fields: Any) -> TaskSnapshot:
    """A task record as the manager would hand it out, for table and id tests."""
    values: dict[str, Any] = {
        "id": task_id,
        "owner": owner,
        "name": "batch_steps",
        "status": status,
        "progress": None,
        "message": None,
        "data": None,
        "result": None,
        "error": None,
        "traceback": None,
        "submitted_at": 0.0,
        "started_at": None,
        "finished_at": None,
        "queue_position": None,
        "version": 1,
    }
    values.update(fields)
    return TaskSnapshot(**values)


# -- real server, real browser ----------------------------------------------------------

ADMIN_PASSWORD = "test-admin-password"
#: Small values so that a closed tab ends (and its tasks are cancelled) within seconds.
SERVER_ENV = {
    "ADMIN_PASSWORD": ADMIN_PASSWORD,
    "SESSIONS_GRACE_S": "2",
    "SESSIONS_HEARTBEAT_S": "1",
    "TASKMGR_MAX_WORKERS": "8",
}
#: Generous: CI machines are shared, noisy and have 2 cores.
UI_TIMEOUT_MS = 30_000
expect.set_options(timeout=UI_TIMEOUT_MS)
VIEWPORT = {"width": 1400, "height": 1000}


def screenshot_path(name: str) -> Path:
    """Where a browser test saves a screenshot: docs/ (shown by the README) when
    UPDATE_SCREENSHOTS=1, else build/screenshots/ (ignored by git): a test run
    leaves the working tree as it found it."""
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        folder = REPO_ROOT / "docs"
    else:
        folder = REPO_ROOT / "build" / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


#: Jobs that run long enough to watch (and cancel): tens of seconds at least.
LONG_BATCH = {"Steps": "2000", "Seconds per step": "0.05"}
LONG_PI = {"Points to draw": "1000000000", "Points per batch": "1000"}
SHORT_BATCH = {"Steps": "3", "Seconds per step": "0.05"}
#: The CSV job at full speed (its default pause makes the sample take about 20 s).
QUICK_CSV = {"Pause per chunk (seconds)": "0"}

JOB_TABS = {
    "csv_profile": "Profile a CSV file",
    "monte_carlo_pi": "Monte Carlo estimate of pi",
    "batch_steps": "Batch of slow steps",
    "fetch_pages": "Fetch pages concurrently (async)",
}


@pytest.fixture(scope="module")
def app_server(streamlit_server_factory: ServerFactory) -> StreamlitServer:
    """The real app (``streamlit run streamlit_app.py``), one per test module."""
    return streamlit_server_factory(MAIN, env=SERVER_ENV)


@pytest.fixture
def new_user(app_server: StreamlitServer, browser: Browser) -> Iterator[UserFactory]:
    """Opens a new user: a browser context of its own (a separate tab, cookies, token)."""
    with separate_users(browser) as open_user:
        yield open_user


@contextmanager
def separate_users(browser: Browser) -> Iterator[UserFactory]:
    """Opens pages, each in a browser context of its own (its own cookies: another user);
    closes them all at the end."""
    contexts: list[BrowserContext] = []

    def open_user() -> Page:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    try:
        yield open_user
    finally:
        for context in contexts:
            context.close()


def open_page(page: Page, server: StreamlitServer, path: str = "", title: str = "") -> Page:
    """Go to a page of the app and wait until it has drawn its title."""
    page.goto(f"{server.url}/{path}")
    heading = title or (path or "streamlit-taskpool")
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    return page


def start_job(page: Page, job_key: str, values: Mapping[str, str] | None = None) -> str:
    """Fill a job's form on the Jobs page, press Start; returns the new task's id."""
    page.get_by_role("tab", name=JOB_TABS[job_key]).click()
    form = page.locator(f".st-key-job-{job_key}")
    for label, value in (values or {}).items():
        form.get_by_role("textbox", name=label, exact=True).fill(value)
    started = form.get_by_text(re.compile(r"as task (\S+)\.$"))
    before = started.inner_text() if started.count() else None
    form.get_by_role("button", name="Start").click()
    if before is not None:
        expect(started).not_to_have_text(before)
    expect(started).to_be_visible()
    match = re.search(r"as task (\S+)\.$", started.inner_text())
    assert match is not None
    return match.group(1)


def task_card(page: Page, task_id: str) -> Locator:
    return page.locator(f".st-key-task-{task_id}")


def status_line(card: Locator) -> Locator:
    """The task's one-line status (``Running · 42% · 3.1 s · …``) or its outcome box."""
    return card.locator('[data-testid="stProgress"], [data-testid="stAlert"]').first


def live_table(card: Locator) -> Locator:
    """A running task's latest rows: a markdown table, redrawn with the progress line."""
    return card.get_by_test_id("stMarkdownContainer").locator("table")


def owner_of_page(page: Page) -> str:
    """The owner the server derives from the page's browser cookie (as the app does)."""
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    raw = cookies.get(runtime.BROWSER_COOKIE)
    assert raw, f"the browser holds no {runtime.BROWSER_COOKIE} cookie"
    secret = runtime.secret_from_cookie(raw)
    assert secret is not None
    return owner_for_browser(secret)


def no_traceback(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def log_in_as_admin(page: Page, server: StreamlitServer, password: str = ADMIN_PASSWORD) -> None:
    open_page(page, server, "Admin")
    page.get_by_role("textbox", name="Admin password").fill(password)
    page.get_by_role("button", name="Log in").click()
