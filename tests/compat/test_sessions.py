"""Differential scenarios for SessionCallbackManager on real servers: octostar 0.9.16 and ours.

One server per implementation for the module, sessions held over Streamlit's
websocket protocol; the page's callbacks write what they saw to an event file.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from streamlit_octostar_utils.threading.session_callback_manager import (
    SessionCallbackManager as OctostarSessions,
)

from sessions.compat import SessionCallbackManager as CompatSessions
from tests.compat.session_servers import GRACE_S, SessionServer, fields, start_session_server
from tests.support.fixtures import ServerFactory

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def started() -> Iterator[dict[str, SessionServer]]:
    servers: dict[str, SessionServer] = {}
    yield servers
    for server in servers.values():
        server.client.shutdown()


@pytest.fixture(params=["octostar", "ours"])
def app(
    request: pytest.FixtureRequest,
    started: dict[str, SessionServer],
    streamlit_server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> SessionServer:
    name = str(request.param)
    if name not in started:
        started[name] = start_session_server(
            name, streamlit_server_factory, tmp_path_factory.mktemp(name)
        )
    return started[name]


def test_on_session_start_runs_in_the_registering_run(app: SessionServer) -> None:
    page = fields(app.open())
    assert page["started"] == page["marker"], "the start callback's write is seen in that run"
    (start,) = app.events.wait_for("cb_start", sid=page["sid"])
    assert start["marker"] == page["marker"]
    assert start["thread"] == "ScriptRunner.scriptThread"


def test_register_session_returns_a_new_registration_on_each_call(app: SessionServer) -> None:
    session = app.open("action=register-again")
    page = fields(session)
    first, second = page["registration"], page["registration2"]
    assert first != second
    assert uuid.UUID(first) and uuid.UUID(second)
    session.rerun("action=info")
    assert fields(session)["registrations"] == "2"


def test_register_session_leaves_the_url_alone(app: SessionServer) -> None:
    session = app.open("a=1")
    fields(session)
    assert session.query_string == "a=1"


def test_the_manager_is_a_singleton_with_octostars_registration_records(
    app: SessionServer,
) -> None:
    page = fields(app.open("action=info"))
    assert page["singleton"] == "True"
    assert page["registrations"] == "1"
    assert page["keys"] == "context,on_heartbeat,on_session_end,on_session_start,runtime,session_id"
    assert page["ids_match"] == "True"


def test_heartbeats_reach_a_connected_session_with_its_state(app: SessionServer) -> None:
    page = fields(app.open())
    beats = app.events.wait_for("cb_heartbeat", count=2, sid=page["sid"])
    assert {beat["marker"] for beat in beats} == {page["marker"]}


def test_heartbeat_called_by_the_app_runs_on_its_thread(app: SessionServer) -> None:
    session = app.open()
    sid = fields(session)["sid"]
    session.rerun("action=heartbeat")
    script_thread = fields(session)["script_thread"]
    app.events.wait_for("cb_heartbeat", sid=sid, thread=script_thread)


def test_on_session_end_runs_the_end_callback_then_clears_the_state(app: SessionServer) -> None:
    session = app.open()
    before = fields(session)
    session.rerun("action=end")
    assert fields(session)["keys_after_end"] == ""
    (end,) = app.events.wait_for("cb_end", sid=before["sid"])
    assert end["marker"] == before["marker"]
    session.rerun("")  # the state is gone: the page initializes again, a new registration
    after = fields(session)
    assert after["marker"] != before["marker"]
    assert after["registration"] != before["registration"]


def test_a_closed_tab_ends_once_with_its_state(app: SessionServer) -> None:
    session = app.open()
    page = fields(session)
    session.close()
    assert session.closed_at is not None
    (end,) = app.events.wait_for("cb_end", sid=page["sid"])
    assert end["marker"] == page["marker"]
    if app.ours:  # ours waits out the grace window; octostar ends it at its next tick
        assert end["t"] - session.closed_at >= GRACE_S - 0.5


def test_a_raising_start_callback_reaches_the_script_run(app: SessionServer) -> None:
    session = app.open("raise_start=1&action=info")
    page = fields(session)
    assert page["start_error"] == "start callback raises"
    assert page["registrations"] == "1"
    app.events.wait_for("cb_heartbeat", sid=page["sid"])  # and the session is tracked


def test_a_network_blip(app: SessionServer) -> None:
    """octostar ends a session whose browser is briefly gone and wipes its state; ours keeps
    it for the grace window (the blip here spans a tick of both)."""
    observer = app.open()  # a connected session, so ours records its ticks
    fields(observer)
    session = app.open()
    before = fields(session)
    session.drop()
    if app.ours:
        (gone,) = app.events.wait_for("disconnect", sid=before["sid"])
        app.events.wait_for("tick", where=lambda tick: tick["t"] > gone["t"])
    else:
        app.events.wait_for("cb_end", sid=before["sid"])
    session.resume()
    session.rerun("")
    after = fields(session)
    assert after["sid"] == before["sid"]
    if app.ours:
        assert after["marker"] == before["marker"]
        assert after["registration"] == before["registration"]
        assert app.events.events("cb_end", sid=before["sid"]) == []
    else:
        assert after["marker"] != before["marker"]


@pytest.mark.parametrize("cls", [OctostarSessions, CompatSessions], ids=["octostar", "ours"])
def test_constructing_the_manager_gives_the_one_instance_and_no_thread(cls: type) -> None:
    threads = threading.active_count()
    made = [cls() for _ in range(5)]
    assert all(each is made[0] for each in made)
    assert cls.get_handler() is made[0]
    assert threading.active_count() == threads


def test_register_session_outside_a_script_run_tracks_nothing() -> None:
    """Ours only: octostar stores a registration without a context, which kills its
    monitoring thread at the next tick (docs/compat.md)."""
    manager = CompatSessions()
    started: list[bool] = []
    before = dict(manager.active_sessions)
    registration = manager.register_session(on_session_start=lambda: started.append(True))
    assert uuid.UUID(registration)
    assert started == [True]
    assert manager.active_sessions == before
