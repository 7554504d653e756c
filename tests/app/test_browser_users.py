"""Real users in real Chromium against `streamlit run`: jobs that live on while the page does.

Each user is a browser context of its own (its own tab token). One server serves the
whole module.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.app.conftest import (
    JOB_TABS,
    LONG_BATCH,
    LONG_PI,
    QUICK_CSV,
    SHORT_BATCH,
    UserFactory,
    live_table,
    log_in_as_admin,
    no_traceback,
    open_page,
    screenshot_path,
    start_job,
    status_line,
    task_card,
)
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]

RUNNING = re.compile(r"^Running · (\d+)%")


def percent(page: Page, task_id: str) -> int:
    match = RUNNING.match(status_line(task_card(page, task_id)).inner_text())
    assert match is not None
    return int(match.group(1))


def test_each_user_sees_only_their_own_jobs(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    alice = open_page(new_user(), app_server, "Jobs", "Jobs")
    bob = open_page(new_user(), app_server, "Jobs", "Jobs")

    alices = start_job(alice, "batch_steps", LONG_BATCH)
    bobs = start_job(bob, "csv_profile", QUICK_CSV)
    bobs_next = start_job(bob, "batch_steps", LONG_BATCH)

    assert alices == bobs_next == "batch_steps-1"  # ids are per tab: no clash
    expect(status_line(task_card(alice, alices))).to_contain_text("Running")
    expect(status_line(task_card(bob, bobs))).to_contain_text("Done")
    expect(status_line(task_card(bob, bobs_next))).to_contain_text("Running")
    expect(task_card(alice, bobs)).to_have_count(0)
    expect(alice.locator('[class*="st-key-task-"]')).to_have_count(1)
    expect(bob.locator('[class*="st-key-task-"]')).to_have_count(2)


def test_progress_and_chart_advance_without_a_click(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = new_user()
    page.set_viewport_size({"width": 1400, "height": 1500})  # room for both cards
    open_page(page, app_server, "Jobs", "Jobs")
    task_id = start_job(page, "monte_carlo_pi", LONG_PI)
    batch = start_job(page, "batch_steps", LONG_BATCH)
    card = task_card(page, task_id)
    expect(status_line(card)).to_have_text(RUNNING)
    expect(card.get_by_test_id("stVegaLiteChart")).to_be_visible()
    expect(live_table(task_card(page, batch))).to_be_visible()

    first = percent(page, task_id)
    expect(status_line(card)).not_to_have_text(re.compile(rf"^Running · {first}%"))

    assert percent(page, task_id) > first
    page.screenshot(path=screenshot_path("jobs.png"), full_page=True)


def test_cancel_stops_a_running_job(new_user: UserFactory, app_server: StreamlitServer) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(page, "batch_steps", LONG_BATCH)
    card = task_card(page, task_id)
    expect(status_line(card)).to_contain_text("Running")

    card.get_by_role("button", name="Cancel").click()

    expect(status_line(card)).to_contain_text("Cancelled")
    expect(card.get_by_role("button", name="Cancel")).to_have_count(0)


def test_an_async_job_fills_its_table_live_and_cancels(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    slow = {"Pages": "1000", "Requests in flight": "5", "Seconds per request": "0.2"}
    task_id = start_job(page, "fetch_pages", slow)
    card = task_card(page, task_id)
    expect(status_line(card)).to_have_text(RUNNING)
    expect(live_table(card)).to_be_visible()
    first = percent(page, task_id)
    expect(status_line(card)).not_to_have_text(re.compile(rf"^Running · {first}%"))
    assert percent(page, task_id) > first

    card.get_by_role("button", name="Cancel").click()

    expect(status_line(card)).to_contain_text("Cancelled")
    no_traceback(page)


def test_a_refresh_finds_the_running_job(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(page, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(page, task_id))).to_contain_text("Running")
    url = page.url

    page.reload()

    card = task_card(page, task_id)
    expect(status_line(card)).to_contain_text("Running")
    assert page.url == url
    first = percent(page, task_id)
    expect(status_line(card)).not_to_have_text(re.compile(rf"^Running · {first}%"))


def test_switching_pages_keeps_the_job_and_its_result(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    running = start_job(page, "batch_steps", LONG_BATCH)
    finished = start_job(page, "csv_profile", QUICK_CSV)
    expect(status_line(task_card(page, finished))).to_contain_text("Done")

    page.get_by_test_id("stSidebar").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Your unfinished tasks")).to_be_visible()
    expect(status_line(task_card(page, running))).to_contain_text("Running")
    expect(task_card(page, finished)).to_have_count(0)

    page.get_by_test_id("stSidebar").get_by_role("link", name="Jobs").click()
    expect(status_line(task_card(page, running))).to_contain_text("Running")
    card = task_card(page, finished)
    expect(status_line(card)).to_contain_text("Done")
    expect(card.get_by_test_id("stDataFrame")).to_be_visible()


def test_a_finished_job_shows_its_result_after_a_refresh(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(page, "batch_steps", SHORT_BATCH)
    expect(status_line(task_card(page, task_id))).to_contain_text("Done")

    page.reload()

    card = task_card(page, task_id)
    expect(status_line(card)).to_contain_text("Done")
    expect(card.get_by_test_id("stDataFrame")).to_be_visible()


def test_an_idle_page_does_not_poll(new_user: UserFactory, app_server: StreamlitServer) -> None:
    page = new_user()
    sent: list[str | bytes] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    open_page(page, app_server, "Jobs", "Jobs")
    task_id = start_job(page, "batch_steps", SHORT_BATCH)
    expect(status_line(task_card(page, task_id))).to_contain_text("Done")
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0)
    before = len(sent)

    # Not a synchronisation: an observation window in which nothing may happen.
    page.wait_for_timeout(3_000)

    assert len(sent) == before, "the page kept asking for reruns with no task unfinished"


@pytest.mark.parametrize(
    ("job", "field", "value", "message"),
    [
        ("batch_steps", "Steps", "", "Steps: is empty; expected a whole number"),
        ("monte_carlo_pi", "Points to draw", "-5", "Points to draw: must be at least 1"),
        ("csv_profile", "Rows per chunk", "10000000000", "Rows per chunk: must be at most"),
    ],
)
def test_bad_number_is_explained_on_the_page(
    new_user: UserFactory,
    app_server: StreamlitServer,
    job: str,
    field: str,
    value: str,
    message: str,
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    page.get_by_role("tab", name=JOB_TABS[job]).click()
    form = page.locator(f".st-key-job-{job}")

    form.get_by_role("textbox", name=field, exact=True).fill(value)
    form.get_by_role("button", name="Start").click()

    expect(form.get_by_test_id("stAlert")).to_have_text(re.compile("^" + re.escape(message)))
    expect(page.locator('[class*="st-key-task-"]')).to_have_count(0)
    no_traceback(page)


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "CSV file: 'photo.png' has the wrong type"),
        ("bad.csv", b"a,b\n1,2\n1,2,3,4\n", "CSV file: is malformed: line 3 has 4 fields"),
    ],
)
def test_bad_file_is_explained_on_the_page(
    new_user: UserFactory, app_server: StreamlitServer, filename: str, content: bytes, message: str
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    form = page.locator(".st-key-job-csv_profile")
    form.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": filename, "mimeType": "application/octet-stream", "buffer": content}]
    )
    expect(form.get_by_text(filename)).to_be_visible()

    form.get_by_role("button", name="Start").click()

    expect(form.get_by_test_id("stAlert")).to_have_text(re.compile("^" + re.escape(message)))
    expect(page.locator('[class*="st-key-task-"]')).to_have_count(0)
    no_traceback(page)


def test_wrong_admin_password_shows_nothing(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = new_user()

    log_in_as_admin(page, app_server, password="not-the-password")

    expect(page.get_by_text("Wrong password.")).to_be_visible()
    expect(page.get_by_role("textbox", name="Admin password")).to_have_value("")
    for hidden in ("Live sessions", "All tasks", "Pool", "Actions"):
        expect(page.get_by_role("heading", name=hidden)).to_have_count(0)
    expect(page.get_by_role("table")).to_have_count(0)
    no_traceback(page)
