"""The Admin password's throttle cannot be dodged or turned against someone else by
setting X-Forwarded-For, which Streamlit believes from loopback peers."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.app.conftest import (
    ADMIN_PASSWORD,
    MAIN,
    SERVER_ENV,
    UI_TIMEOUT_MS,
    VIEWPORT,
    log_in_as_admin,
)
from tests.support.fixtures import ServerFactory
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]

ContextFactory = Callable[..., Page]


@pytest.fixture(scope="module")
def app_server(streamlit_server_factory: ServerFactory) -> StreamlitServer:
    """The app with a first wait long enough to outlast opening a second browser."""
    return streamlit_server_factory(MAIN, env={**SERVER_ENV, "ADMIN_LOGIN_WAIT_S": "60"})


@pytest.fixture
def client_with(browser: Browser) -> Iterator[ContextFactory]:
    """A browser whose requests (the websocket's too) carry the given extra headers."""
    contexts: list[BrowserContext] = []

    def make(headers: dict[str, str] | None = None) -> Page:
        context = browser.new_context(viewport=VIEWPORT, extra_http_headers=headers or {})
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def test_rotating_x_forwarded_for_does_not_reset_the_wait(
    client_with: ContextFactory, app_server: StreamlitServer
) -> None:
    first = client_with({"X-Forwarded-For": "203.0.113.1"})
    log_in_as_admin(first, app_server, password="guess-1")
    expect(first.get_by_text("Wrong password.")).to_be_visible()

    rotated = client_with({"X-Forwarded-For": "203.0.113.2"})
    log_in_as_admin(rotated, app_server, password=ADMIN_PASSWORD)

    expect(rotated.get_by_text("Too many failed attempts.")).to_be_visible()
    expect(rotated.get_by_role("heading", name="Live sessions")).to_have_count(0)


def test_naming_someone_elses_address_does_not_lock_them_out(
    client_with: ContextFactory, app_server: StreamlitServer
) -> None:
    # The operator here is on this machine (Streamlit reports no address for loopback).
    attacker = client_with({"X-Forwarded-For": "127.0.0.1"})
    log_in_as_admin(attacker, app_server, password="guess-1")
    refused = re.compile(r"^(Wrong password|Too many failed attempts)\.")
    expect(attacker.get_by_text(refused)).to_be_visible()

    operator = client_with()
    log_in_as_admin(operator, app_server)

    expect(operator.get_by_role("heading", name="Live sessions")).to_be_visible()
