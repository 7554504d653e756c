"""A browser-reported time zone is data: a folder, a path or a huge string never crashes
the Admin page, which then shows times in UTC."""

from __future__ import annotations

import pytest

from app.session import UserState, known_zone
from tests.app.conftest import ADMIN_PAGE, AppFactory, texts

PASSWORD = "zone-test-password"


@pytest.mark.parametrize(
    "zone", ["America", "x" * 5000, "../../../etc/passwd", "Europe/Rome\x00", "", "UTC/../UTC"]
)
def test_the_admin_page_survives_any_reported_time_zone(make_app: AppFactory, zone: str) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD})
    at.context = {"timezone": zone}
    at.run()
    at.text_input(key="admin-password").set_value(PASSWORD)
    at.button(key="admin-login").click().run()

    assert not at.exception
    assert "Live sessions" in texts(at.subheader)
    state = at.session_state["app"]
    assert isinstance(state, UserState) and str(state.zone) == "UTC"


def test_a_real_zone_is_kept() -> None:
    assert known_zone("Europe/Rome") == "Europe/Rome"
    assert str(UserState(timezone="Asia/Kolkata").zone) == "Asia/Kolkata"
