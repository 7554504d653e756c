"""The store's session history (the Admin page's) holds a freshly started server's very
first browser session, not only the ones after it. Real ``streamlit run`` on SQLite."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page

from store import SqlStore
from tests.app.conftest import open_page, owner_of_page
from tests.store.conftest import AppStarter
from tests.support.databases import fresh_database
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.browser]

#: Well past the write-behind's longest hold, so that only a session never handed in fails.
RECORDED_WITHIN_S = 20.0


def test_first_session_of_a_new_server_is_in_the_store(
    start_app: AppStarter, new_page: Callable[[], Page], tmp_path: Path
) -> None:
    with fresh_database("sqlite", tmp_path) as url:
        server = start_app(url)
        owner = owner_of_page(open_page(new_page(), server))
        store = SqlStore(url)
        try:
            wait_until(
                lambda: [each for each in store.sessions() if each.owner == owner],
                timeout=RECORDED_WITHIN_S,
                message=lambda: (
                    f"the first session of the process in the store's sessions "
                    f"table under its owner; stored: {store.sessions()}"
                ),
            )
        finally:
            store.close()
