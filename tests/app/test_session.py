"""The initialize()/loop() skeleton: state set up once, browser values behind a guard."""

from __future__ import annotations

from app.services import services
from app.session import UserState
from sessions import OWNER_PARAM
from tests.app.conftest import JOBS_PAGE, AppFactory, owner_of, texts


def test_first_run_sets_up_state_and_an_owner_kept_out_of_the_url(make_app: AppFactory) -> None:
    at = make_app().run()

    assert not at.exception
    assert at.session_state["initialized"] is True
    state = at.session_state["app"]
    assert isinstance(state, UserState)
    assert state.timezone == "Europe/Rome"
    assert state.owner and OWNER_PARAM not in at.query_params


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


def test_an_owner_in_the_url_is_dropped_not_trusted(make_app: AppFactory) -> None:
    first = make_app().run()
    follower = make_app()
    follower.query_params[OWNER_PARAM] = owner_of(first)

    follower.run()

    assert owner_of(follower) != owner_of(first)
    assert OWNER_PARAM not in follower.query_params


def test_a_signed_in_user_is_the_same_owner_on_every_device(make_app: AppFactory) -> None:
    user = {"is_logged_in": True, "iss": "https://accounts.example", "sub": "ada-1815"}
    laptop, phone, stranger = make_app(), make_app(), make_app()
    laptop.user = dict(user)
    phone.user = dict(user)
    stranger.user = {**user, "sub": "charles-1791"}

    owners = {owner_of(at.run()) for at in (laptop, phone)}

    assert len(owners) == 1 and owners.pop().startswith("user:")
    assert owner_of(stranger.run()) not in (owner_of(laptop), "")


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
