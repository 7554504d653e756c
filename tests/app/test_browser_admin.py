"""The Admin page in real Chromium: live sessions and tasks of other users, and acting on them.

Users and the operator are browser contexts of their own, against one real server.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from app.admin_tables import owner_label
from tests.app.conftest import (
    LONG_BATCH,
    LONG_PI,
    UserFactory,
    log_in_as_admin,
    open_page,
    owner_of_page,
    screenshot_path,
    start_job,
    status_line,
    task_card,
)
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]


def admin_page(new_user: UserFactory, server: StreamlitServer) -> Page:
    page = new_user()
    page.set_viewport_size({"width": 1400, "height": 1300})
    log_in_as_admin(page, server)
    expect(page.get_by_role("heading", name="Live sessions")).to_be_visible()
    return page


def session_row(admin: Page, user: Page) -> Locator:
    rows = admin.locator(".st-key-admin-sessions").get_by_role("row")
    return rows.filter(has_text=owner_label(owner_of_page(user)))


def task_row(admin: Page, user: Page, task_id: str) -> Locator:
    rows = admin.locator(".st-key-admin-tasks").get_by_role("row")
    return rows.filter(has_text=owner_label(owner_of_page(user))).filter(has_text=task_id)


def test_admin_lists_both_sessions_and_their_tasks_and_updates_itself(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    alice = open_page(new_user(), app_server, "Jobs", "Jobs")
    bob = open_page(new_user(), app_server, "Jobs", "Jobs")
    alices = start_job(alice, "batch_steps", LONG_BATCH)
    bobs = start_job(bob, "monte_carlo_pi", LONG_PI)

    admin = admin_page(new_user, app_server)

    for user, task_id in ((alice, alices), (bob, bobs)):
        expect(session_row(admin, user)).to_contain_text("connected")
        expect(session_row(admin, user)).to_contain_text("Jobs")
        expect(session_row(admin, user)).to_contain_text("Headless Chrome")
        expect(task_row(admin, user, task_id)).to_contain_text("Running")
    expect(admin.locator(".st-key-admin-queue")).to_contain_text(owner_label(owner_of_page(alice)))

    row = task_row(admin, alice, alices)
    first = row.inner_text()
    expect(row).not_to_have_text(first)  # progress and elapsed move on with no click
    admin.screenshot(path=screenshot_path("admin.png"), full_page=True)


def test_closing_a_tab_ends_its_session_and_cancels_its_task(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    carol = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(carol, "batch_steps", LONG_BATCH)
    admin = admin_page(new_user, app_server)
    row = session_row(admin, carol)
    task = task_row(admin, carol, task_id)
    expect(row).to_contain_text("connected")
    expect(task).to_contain_text("Running")

    carol.close()

    expect(row).to_have_count(0)  # ended once the grace window (2 s here) ran out
    expect(task).to_contain_text("Cancelled")


def test_admin_cancels_a_users_task(new_user: UserFactory, app_server: StreamlitServer) -> None:
    dave = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(dave, "batch_steps", LONG_BATCH)
    admin = admin_page(new_user, app_server)
    expect(task_row(admin, dave, task_id)).to_contain_text("Running")

    owner = owner_label(owner_of_page(dave))
    picker = admin.locator(".st-key-admin-task").get_by_role("combobox")
    picker.click()
    picker.press_sequentially(owner)  # typing filters the options (other tests' tasks too)
    label = rf"^Batch of slow steps · \d\d:\d\d:\d\d · {re.escape(owner)}$"
    admin.get_by_role("option", name=re.compile(label)).click()
    admin.get_by_role("button", name="Cancel task").click()

    # Once in about 20 runs of the whole suite the notice said "had already ended" for the
    # task this press had cancelled, as if the callback had run twice (not reproduced on
    # its own). The notice now says where the task stands, so both wordings mean that the
    # press took effect on dave's task, and "ended" can only mean that it had not.
    which = re.escape(f"{task_id} of {owner}")
    outcome = rf"^(Cancel requested for task {which}\.|Task {which} is cancelled\.)$"
    expect(admin.get_by_text(re.compile(outcome))).to_be_visible()
    expect(status_line(task_card(dave, task_id))).to_contain_text("Cancelled")


def test_broadcast_reaches_every_user_without_a_click(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    idle = open_page(new_user(), app_server)
    busy = open_page(new_user(), app_server, "Jobs", "Jobs")
    start_job(busy, "batch_steps", LONG_BATCH)
    admin = admin_page(new_user, app_server)
    text = "Maintenance at 18:00: please save your work."
    box = admin.get_by_role("textbox", name="Broadcast a message to every user")
    box.fill("   ")
    admin.get_by_role("button", name="Send to everyone").click()
    expect(admin.get_by_text("Write a message first.")).to_be_visible()

    box.fill(text)
    admin.get_by_role("button", name="Send to everyone").click()
    try:
        for page in (idle, busy, admin):
            expect(page.get_by_test_id("stAlert").filter(has_text=text)).to_be_visible()

        busy.get_by_role("button", name="Dismiss").click()
        expect(busy.get_by_text(text)).to_have_count(0)
    finally:
        admin.get_by_role("button", name="Clear the broadcast").click()
    expect(idle.get_by_text(text)).to_have_count(0)
