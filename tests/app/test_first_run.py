"""A newcomer's first visit, on a server of its own: no request leaves the machine, no
request fails, and the server log stays clean."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Request, Response, expect

from tests.app.conftest import (
    MAIN,
    SERVER_ENV,
    UI_TIMEOUT_MS,
    VIEWPORT,
    log_in_as_admin,
    open_page,
    start_job,
    status_line,
    task_card,
)
from tests.support.fixtures import ServerFactory
from tests.support.outside import block_outside_requests
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]

#: What a normal session must never leave in the server's log.
NOISE = re.compile(r"missing ScriptRunContext|Traceback|Exception|WARNING|ERROR", re.IGNORECASE)


@pytest.fixture(scope="module")
def fresh_server(streamlit_server_factory: ServerFactory) -> StreamlitServer:
    # The default grace window: a refresh on a busy machine may take longer than the short
    # one the other browser tests use.
    return streamlit_server_factory(MAIN, env={**SERVER_ENV, "SESSIONS_GRACE_S": "30"})


def test_a_first_visit_stays_on_this_machine_and_leaves_a_clean_log(
    browser: Browser, fresh_server: StreamlitServer
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    outside = block_outside_requests(context)
    failed: list[str] = []

    def note(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    def note_failure(request: Request) -> None:
        if request.failure != "net::ERR_ABORTED":  # a reload stops what it no longer needs
            failed.append(f"{request.failure} {request.url}")

    context.on("response", note)
    context.on("requestfailed", note_failure)
    try:
        page = open_page(context.new_page(), fresh_server)
        page.get_by_test_id("stSidebar").get_by_role("link", name="Jobs").click()
        expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
        task_id = start_job(page, "batch_steps")  # the defaults: about half a minute
        expect(status_line(task_card(page, task_id))).to_contain_text("Running")
        page.reload()  # a refresh straight onto a page other than the home page
        expect(status_line(task_card(page, task_id))).to_contain_text("Running")
        admin = context.new_page()
        log_in_as_admin(admin, fresh_server)
        expect(admin.get_by_role("heading", name="Live sessions")).to_be_visible()
        admin.goto(f"{fresh_server.url}/Admin")  # a deep link, loaded afresh
        expect(admin.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    finally:
        context.close()

    assert outside == [], f"requests left the machine: {outside}"
    # Deep links included: Streamlit's page script, loaded on /Jobs, would first look for
    # its server under /Jobs/ (streamlit/streamlit#7074) unless the app tells it where.
    assert failed == [], f"requests failed: {failed}"
    noise = [line for line in fresh_server.log_tail(400).splitlines() if NOISE.search(line)]
    assert noise == [], "\n".join(noise)
