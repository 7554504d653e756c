"""The tracker where Streamlit has no runtime to list: AppTest, bare Python, and its own rules."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sessions import SessionCallbackManager, SessionState, runtime
from sessions.owner import OWNER_PARAM, is_owner_token, new_owner_token
from sessions.resource import get_tracker
from tests.sessions.apps import apptest_calls
from tests.support.wait import wait_until

APP = Path(__file__).parent / "apps" / "apptest_app.py"


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    """The AppTest app, with a fresh server-wide tracker that beats every 0.05 s."""
    monkeypatch.setenv("SESSIONS_HEARTBEAT_S", "0.05")
    monkeypatch.setenv("SESSIONS_GRACE_S", "0")
    get_tracker.clear()
    apptest_calls.CALLS.clear()
    yield AppTest.from_file(str(APP), default_timeout=30)
    get_tracker.clear()  # stops the tracker (its on_release)


def shown(at: AppTest) -> dict[str, str]:
    return dict(str(element.value).partition("=")[::2] for element in at.text)


def test_register_session_works_without_a_runtime(app: AppTest) -> None:
    app.run()
    assert not app.exception
    fields = shown(app)
    tracker = get_tracker()

    (info,) = tracker.live_sessions()
    assert info.session_id == fields["session"]
    assert info.owner == fields["owner"] and OWNER_PARAM not in app.query_params
    assert info.state is SessionState.CONNECTED
    assert info.registered
    # Callbacks run on the tracker thread and reach this session's st.session_state.
    marker = fields["marker"]
    wait_until(lambda: ("heartbeat", marker) in apptest_calls.CALLS, message="a heartbeat")
    assert wait_until(lambda: tracker.get_session(info.session_id)).last_heartbeat is not None
    assert apptest_calls.CALLS[0] == ("start", marker)


def test_on_session_start_runs_in_the_first_run_and_its_writes_are_seen(app: AppTest) -> None:
    app.run()
    assert not app.exception
    assert shown(app)["started"] == "True"
    assert apptest_calls.CALLS[0] == ("start", shown(app)["marker"])


def test_register_session_is_idempotent_across_reruns(app: AppTest) -> None:
    app.run()
    app.run()
    app.run()
    assert not app.exception

    tracker = get_tracker()
    assert len(tracker.live_sessions()) == 1
    wait_until(lambda: apptest_calls.CALLS.count(("heartbeat", shown(app)["marker"])) >= 2)
    assert [call for call in apptest_calls.CALLS if call[0] == "start"] == [
        ("start", shown(app)["marker"])
    ]


def test_an_owner_token_in_the_url_is_never_taken(app: AppTest) -> None:
    token = new_owner_token()
    app.query_params[OWNER_PARAM] = token
    app.run()
    owner = shown(app)["owner"]
    assert owner != token and token not in owner
    assert is_owner_token(owner)
    assert OWNER_PARAM not in app.query_params


def test_register_outside_a_script_run_tracks_nothing() -> None:
    tracker = SessionCallbackManager(heartbeat_interval_s=0.05, grace_s=0)
    try:
        assert tracker.register_session() == ""
        assert tracker.live_sessions() == []
    finally:
        tracker.stop()


def test_stop_ends_the_thread_and_can_be_called_twice() -> None:
    before = set(threading.enumerate())
    tracker = SessionCallbackManager(heartbeat_interval_s=0.05, grace_s=0)
    (thread,) = set(threading.enumerate()) - before
    assert thread.daemon

    tracker.stop()
    tracker.stop()
    assert tracker.stopped
    assert not thread.is_alive()


@pytest.mark.parametrize(
    ("heartbeat_interval_s", "grace_s"),
    [(0, 1), (-1, 1), (1, -0.5), (1, float("inf")), (1, float("nan"))],
)
def test_settings_out_of_range_are_refused(heartbeat_interval_s: float, grace_s: float) -> None:
    with pytest.raises(ValueError):
        SessionCallbackManager(heartbeat_interval_s=heartbeat_interval_s, grace_s=grace_s)


def test_listeners_must_be_callable() -> None:
    tracker = SessionCallbackManager(heartbeat_interval_s=1, grace_s=0)
    try:
        with pytest.raises(TypeError):
            tracker.add_listener(on_end="not a function")  # type: ignore[arg-type]
    finally:
        tracker.stop()


def test_an_untested_streamlit_version_warns_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "streamlit_version", lambda: "0.1.0")
    monkeypatch.setattr(runtime, "_version_checked", False)

    with pytest.warns(runtime.UntestedStreamlitVersion, match=r"Streamlit 0\.1\.0"):
        assert runtime.check_streamlit_version() is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert runtime.check_streamlit_version() is False


def test_the_installed_streamlit_version_was_tested() -> None:
    assert runtime.check_streamlit_version(), runtime.streamlit_version()


def test_owner_tokens_are_unguessable_and_url_safe() -> None:
    tokens = {new_owner_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(is_owner_token(token) for token in tokens)
    assert not is_owner_token("short")
    assert not is_owner_token("has spaces in it, see")
    assert not is_owner_token(None)
