"""What a client sends is shown as text on every page: no links, images or requests.

Each attack puts markdown, a bare address and HTML where a client controls the text,
and checks what the browser renders: no link or image to the attacker's host, no
request to it, and the text itself on screen as it was sent.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.app.conftest import (
    UI_TIMEOUT_MS,
    VIEWPORT,
    UserFactory,
    log_in_as_admin,
    open_page,
)
from tests.support.outside import block_outside_requests
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]

HOST = "e.example"


def assert_shown_as_text(page: Page, blocked: list[str]) -> None:
    expect(page.locator(f"a[href*='{HOST}']")).to_have_count(0)
    expect(page.locator(f"img[src*='{HOST}']")).to_have_count(0)
    asked = [url for url in blocked if HOST in url]
    assert asked == [], f"the page asked the attacker's host for {asked}"


@pytest.fixture
def open_context(browser: Browser) -> Iterator[object]:
    contexts: list[BrowserContext] = []

    def make(**options: object) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport=VIEWPORT, **options)  # type: ignore[arg-type]
        context.set_default_timeout(UI_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page(), block_outside_requests(context)

    yield make
    for context in contexts:
        context.close()


def test_a_user_agent_with_markup_shows_as_text_on_the_admin_page(
    open_context: object, app_server: StreamlitServer
) -> None:
    agent = f"![i](http://{HOST}/u.png) http://{HOST}/b"
    visitor, _ = open_context(user_agent=agent)  # type: ignore[operator]
    open_page(visitor, app_server, "Jobs", "Jobs")

    admin, blocked = open_context()  # type: ignore[operator]
    admin.set_viewport_size({"width": 1400, "height": 1300})
    log_in_as_admin(admin, app_server)
    sessions = admin.locator(".st-key-admin-sessions")
    expect(sessions).to_contain_text(f"![i](http:\u200b//{HOST}/u.png)")
    assert_shown_as_text(admin, blocked)


def test_input_quoted_in_an_error_shows_as_text(
    open_context: object, app_server: StreamlitServer
) -> None:
    page, blocked = open_context()  # type: ignore[operator]
    open_page(page, app_server, "Jobs", "Jobs")
    page.get_by_role("tab", name="Batch of slow steps").click()
    form = page.locator(".st-key-job-batch_steps")
    steps = f"![i](http://{HOST}/s.png) www.e.ex"  # within the field's 40 characters
    form.get_by_role("textbox", name="Steps", exact=True).fill(steps)
    form.get_by_role("button", name="Start").click()
    expect(form.get_by_test_id("stAlert")).to_contain_text("Steps: expected a whole number")
    expect(form.get_by_test_id("stAlert")).to_contain_text(f"![i](http:\u200b//{HOST}/s.png)")

    page.get_by_role("tab", name="Profile a CSV file").click()
    upload = page.locator(".st-key-job-csv_profile")
    name = f"[x](javascript:alert(1)) <b>bold</b> www.{HOST}.png"  # a file name has no "/"
    upload.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": "image/png", "buffer": b"\x89PNG"}]
    )
    expect(upload.get_by_text("4.0B")).to_be_visible()  # uploaded (its name is shown cut short)
    upload.get_by_role("button", name="Start").click()
    expect(upload.get_by_test_id("stAlert")).to_contain_text("has the wrong type")
    expect(upload.get_by_test_id("stAlert")).to_contain_text("[x](javascript:alert(1)) <b>bold")
    expect(page.locator("a[href^='javascript']")).to_have_count(0)
    expect(upload.locator("b")).to_have_count(0)
    assert_shown_as_text(page, blocked)


def test_a_broadcast_with_markup_shows_as_text(
    new_user: UserFactory, open_context: object, app_server: StreamlitServer
) -> None:
    user, blocked = open_context()  # type: ignore[operator]
    open_page(user, app_server)
    admin = new_user()
    log_in_as_admin(admin, app_server)
    text = f"**Now** ![i](http://{HOST}/b.png) :red[x] www.{HOST}"
    admin.get_by_role("textbox", name="Broadcast a message to every user").fill(text)
    admin.get_by_role("button", name="Send to everyone").click()
    try:
        alert = user.get_by_test_id("stAlert").filter(has_text="Message from the operator")
        expect(alert).to_contain_text(f"**Now** ![i](http:\u200b//{HOST}/b.png) :\u200bred[x]")
        assert_shown_as_text(user, blocked)
    finally:
        admin.get_by_role("button", name="Clear the broadcast").click()
