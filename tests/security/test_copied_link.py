"""Ownership cannot be handed over by a link: the owner is the browser, not the URL."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.app.conftest import (
    LONG_BATCH,
    UserFactory,
    open_page,
    owner_of_page,
    start_job,
    status_line,
    task_card,
)
from tests.support.server import StreamlitServer

pytestmark = [pytest.mark.server, pytest.mark.browser]

TASK_CARDS = '[class*="st-key-task-"]'


def test_a_second_browser_opening_the_first_ones_full_url_sees_none_of_its_tasks(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    alice = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(alice, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(alice, task_id))).to_contain_text("Running")

    for url in (alice.url, f"{alice.url}?owner={owner_of_page(alice)}"):
        mallory = new_user()
        mallory.goto(url)
        expect(mallory.get_by_text("No tasks yet: start one on the left.")).to_be_visible()
        expect(mallory.locator(TASK_CARDS)).to_have_count(0)
        assert owner_of_page(mallory) != owner_of_page(alice)


def test_a_crafted_link_does_not_put_the_victims_tasks_under_the_attacker(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    mallory = open_page(new_user(), app_server, "Jobs", "Jobs")
    bait = f"{app_server.url}/Jobs?owner={owner_of_page(mallory)}"

    victim = new_user()
    victim.goto(bait)
    expect(victim.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    task_id = start_job(victim, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(victim, task_id))).to_contain_text("Running")
    assert "owner=" not in victim.url  # the bait's parameter is gone, never used

    mallory.goto(bait)
    expect(mallory.get_by_text("No tasks yet: start one on the left.")).to_be_visible()
    expect(mallory.locator(TASK_CARDS)).to_have_count(0)


def test_a_refresh_and_a_new_tab_of_the_same_browser_find_the_tasks(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    alice = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(alice, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(alice, task_id))).to_contain_text("Running")

    second_tab = alice.context.new_page()
    open_page(second_tab, app_server, "Jobs", "Jobs")
    expect(status_line(task_card(second_tab, task_id))).to_contain_text("Running")
    alice.reload()
    expect(status_line(task_card(alice, task_id))).to_contain_text("Running")
