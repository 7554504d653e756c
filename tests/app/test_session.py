"""The initialize()/loop() skeleton: state set up once, browser values behind a guard."""

from __future__ import annotations

from app.services import services
from app.session import UserState
from sessions import OWNER_PARAM
from tests.app.conftest import JOBS_PAGE, AppFactory, owner_of, texts


def test_first_run_sets_up_state_and_puts_owner_token_in_url(make_app: AppFactory) -> None:
    at = make_app().run()

    assert not at.exception
    assert at.session_state["initialized"] is True
    state = at.session_state["app"]
    assert isinstance(state, UserState)
    assert state.timezone == "Europe/Rome"
    assert state.owner and at.query_params[OWNER_PARAM] == state.owner


def test_state_is_set_up_once_per_session(make_app: AppFactory) -> None:
    at = make_app().run()
    first = at.session_state["app"]

    at.run()

    assert at.session_state["app"] is first


def test_page_waits_for_the_browser_time_zone(make_app: AppFactory) -> None:
    at = make_app()
    at.context = {}

    at.run()

    assert not at.exception
    assert texts(at.caption) == ["Connecting…"]
    assert not at.title
    assert at.session_state["app"].timezone is None


def test_refreshed_tab_keeps_its_owner_token(make_app: AppFactory) -> None:
    first = make_app().run()
    refreshed = make_app()
    refreshed.query_params[OWNER_PARAM] = owner_of(first)

    refreshed.run()

    assert owner_of(refreshed) == owner_of(first)


def test_a_page_opened_first_initializes_the_session(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()

    assert not at.exception
    assert texts(at.title) == ["Jobs"]
    assert at.session_state["initialized"] is True


def test_two_tabs_get_different_owners(make_app: AppFactory) -> None:
    assert owner_of(make_app().run()) != owner_of(make_app().run())


def test_home_page_shows_the_pool_and_the_async_tasks(make_app: AppFactory) -> None:
    at = make_app().run()
    metrics = {metric.label: metric.value for metric in at.metric}
    manager = services().manager
    assert metrics["Workers busy (all users)"].endswith(f" / {manager.max_workers}")
    assert metrics["Async tasks running"].endswith(f" / {manager.max_async}")
