"""One user cannot take every worker, nor multiply their share by opening tabs: the tabs
of a browser are one owner, and a quarter of the workers stays free for newcomers."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.app.conftest import (
    LONG_BATCH,
    MAIN,
    SERVER_ENV,
    UserFactory,
    open_page,
    owner_of_page,
    start_job,
    status_line,
    task_card,
)
from tests.support.fixtures import ServerFactory
from tests.support.server import StreamlitServer

#: Five jobs started by hand in a browser: slow on a loaded machine.
pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.timeout(300)]

WORKERS = 4
#: The default reserve: a quarter of the workers (at least one), for owners with nothing running.
RESERVE = 1


@pytest.fixture(scope="module")
def app_server(streamlit_server_factory: ServerFactory) -> StreamlitServer:
    """The app with few workers (and the default reserve), so few jobs fill them."""
    return streamlit_server_factory(MAIN, env={**SERVER_ENV, "TASKMGR_MAX_WORKERS": str(WORKERS)})


def test_many_tabs_of_one_browser_hold_one_share_and_a_newcomer_starts_at_once(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    first_tab = open_page(new_user(), app_server, "Jobs", "Jobs")
    second_tab = open_page(first_tab.context.new_page(), app_server, "Jobs", "Jobs")
    assert owner_of_page(first_tab) == owner_of_page(second_tab)
    for tab in (first_tab, second_tab):
        for _ in range(WORKERS // 2):
            start_job(tab, "batch_steps", LONG_BATCH)

    # Back to the first tab, as its user would be: Chromium slows the timers of a tab in
    # the background, and the page's own refresh runs on one.
    first_tab.bring_to_front()
    lines = first_tab.get_by_test_id("stProgress")
    expect(lines.filter(has_text=re.compile(r"^Running"))).to_have_count(WORKERS - RESERVE)
    expect(lines.filter(has_text=re.compile(r"^Queued"))).to_have_count(RESERVE)

    newcomer = open_page(new_user(), app_server, "Jobs", "Jobs")
    task_id = start_job(newcomer, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(newcomer, task_id))).to_contain_text("Running")
