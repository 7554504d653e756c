"""First-run polish in real Chromium: what a newcomer noticed, each fixed."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.app.conftest import (
    ADMIN_PASSWORD,
    SHORT_BATCH,
    UserFactory,
    log_in_as_admin,
    open_page,
    start_job,
    status_line,
    task_card,
)
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]


def test_the_selected_job_tab_stays_selected_when_the_page_redraws(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(page, "batch_steps", SHORT_BATCH)
    pi_tab = page.get_by_role("tab", name="Monte Carlo estimate of pi")
    pi_tab.click()
    expect(pi_tab).to_have_attribute("aria-selected", "true")

    # The last task ending redraws the whole page (the list stops polling).
    expect(status_line(task_card(page, task_id))).to_contain_text("Done")
    page.get_by_role("button", name="Cancel").count()  # the redraw has reached the page

    expect(pi_tab).to_have_attribute("aria-selected", "true")
    expect(page.locator(".st-key-job-monte_carlo_pi")).to_be_visible()


def test_the_selected_job_tab_stays_selected_when_a_broadcast_arrives(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    pi_tab = page.get_by_role("tab", name="Monte Carlo estimate of pi")
    pi_tab.click()
    expect(pi_tab).to_have_attribute("aria-selected", "true")
    admin = new_user()
    log_in_as_admin(admin, app_server)
    admin.get_by_role("textbox", name="Broadcast a message to every user").fill("Hello all")
    admin.get_by_role("button", name="Send to everyone").click()
    try:
        expect(page.get_by_test_id("stAlert").filter(has_text="Hello all")).to_be_visible()
        expect(pi_tab).to_have_attribute("aria-selected", "true")
    finally:
        admin.get_by_role("button", name="Clear the broadcast").click()


def test_a_dismissed_broadcast_stays_dismissed_after_a_refresh_and_in_a_new_tab(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    admin = new_user()
    log_in_as_admin(admin, app_server)
    admin.get_by_role("textbox", name="Broadcast a message to every user").fill("Read me once")
    admin.get_by_role("button", name="Send to everyone").click()
    try:
        banner = page.get_by_test_id("stAlert").filter(has_text="Read me once")
        expect(banner).to_be_visible()
        page.get_by_role("button", name="Dismiss").click()
        expect(banner).to_have_count(0)

        page.reload()
        expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
        other_tab = open_page(page.context.new_page(), app_server)
        stranger = open_page(new_user(), app_server)

        expect(stranger.get_by_text("Read me once")).to_be_visible()  # it is still on air
        expect(page.get_by_text("Read me once")).to_have_count(0)
        expect(other_tab.get_by_text("Read me once")).to_have_count(0)
    finally:
        admin.get_by_role("button", name="Clear the broadcast").click()


def test_a_validation_message_clears_once_the_input_is_fixed_and_stays_on_its_form(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Jobs", "Jobs")
    form = page.locator(".st-key-job-batch_steps")
    error = "Steps: must be at least 1, got -5"
    page.get_by_role("tab", name="Batch of slow steps").click()
    form.get_by_role("textbox", name="Steps", exact=True).fill("-5")
    form.get_by_role("button", name="Start").click()
    expect(form.get_by_text(error)).to_be_visible()

    task_id = start_job(page, "batch_steps", SHORT_BATCH)  # fixed, and started
    expect(page.get_by_text(error)).to_have_count(0)
    expect(form.get_by_text(f"as task {task_id}.")).to_be_visible()

    form.get_by_role("textbox", name="Steps", exact=True).fill("-5")
    form.get_by_role("button", name="Start").click()
    expect(form.get_by_text(error)).to_be_visible()
    page.get_by_role("tab", name="Monte Carlo estimate of pi").click()
    page.get_by_role("tab", name="Batch of slow steps").click()
    expect(page.get_by_text(error)).to_have_count(0)  # another job's tab was opened

    form.get_by_role("button", name="Start").click()
    expect(form.get_by_text(error)).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="streamlit-taskpool", exact=True)).to_be_visible()
    expect(page.get_by_text(error)).to_have_count(0)
    page.get_by_test_id("stSidebar").get_by_role("link", name="Jobs").click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    page.get_by_role("tab", name="Batch of slow steps").click()
    expect(form.get_by_role("button", name="Start")).to_be_visible()
    expect(page.get_by_text(error)).to_have_count(0)  # back from another page


def test_enter_in_the_admin_password_field_logs_in(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_page(new_user(), app_server, "Admin")
    page.get_by_role("textbox", name="Admin password").fill(ADMIN_PASSWORD)
    page.get_by_role("textbox", name="Admin password").press("Enter")
    expect(page.get_by_role("heading", name="Live sessions")).to_be_visible()
