"""The tracker against a real server with many sessions held by websocket clients.

Every listener call on this server first goes through a listener that raises,
so every test here also shows that a raising listener stops nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from sessions.owner import new_owner_token
from tests.sessions.tracker_server import TrackerServer, start_tracker_server
from tests.support.fixtures import ServerFactory
from tests.support.wait import wait_until
from tests.support.ws_client import USER_AGENT, StreamlitWsClient, WsSession

pytestmark = pytest.mark.server

GRACE_S = 1.0
HEARTBEAT_S = 0.5


@pytest.fixture(scope="module")
def tracked(
    streamlit_server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> TrackerServer:
    return start_tracker_server(
        streamlit_server_factory,
        tmp_path_factory.mktemp("many"),
        grace_s=GRACE_S,
        heartbeat_s=HEARTBEAT_S,
        env={"TEST_RAISING_LISTENER": "1"},
    )


@pytest.fixture
def client(tracked: TrackerServer) -> Iterator[StreamlitWsClient]:
    with StreamlitWsClient(tracked.server.ws_url) as ws_client:
        yield ws_client


def ids(sessions: list[WsSession]) -> list[str]:
    found = [session.session_id for session in sessions]
    assert all(found), "every session got a session id"
    return [session_id for session_id in found if session_id is not None]


def test_on_session_start_writes_are_seen_by_the_rest_of_the_first_run(
    client: StreamlitWsClient,
) -> None:
    """The callback runs inside register_session: the page reads what it wrote."""
    sessions = client.open_many([""] * 20)
    seen = [[t for t in session.texts if t.startswith("start_seen=")] for session in sessions]
    assert seen == [["start_seen=True"]] * 20


def test_fifty_sessions_at_once_are_all_tracked(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    sessions = client.open_many([""] * 50)
    session_ids = ids(sessions)
    assert len(set(session_ids)) == 50

    for session_id in session_ids:
        tracked.events.wait_for("start", sid=session_id)
        tracked.events.wait_for("heartbeat", sid=session_id)
    client.close_many(sessions)
    for session_id in session_ids:
        tracked.ended(session_id)
    for session_id in session_ids:
        assert len(tracked.events.events("start", sid=session_id)) == 1
        assert len(tracked.events.events("end", sid=session_id)) == 1
        assert len(tracked.events.events("cb_end", sid=session_id)) == 1


def test_no_registered_session_is_missed_however_short(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    """Sessions that close as soon as their first run is over: far shorter than a tick."""
    marker = new_owner_token()
    sessions = client.open_many([f"batch={marker}"] * 20)
    client.close_many(sessions)
    for session_id in ids(sessions):
        assert len(tracked.events.wait_for("start", sid=session_id)) == 1
        assert len(tracked.ended(session_id)) > 0
        assert len(tracked.events.events("end", sid=session_id)) == 1

    # And sessions that close while their first run may still be going: every one
    # that got as far as registering has one start and exactly one end.
    quick_marker = new_owner_token()
    quick = client.open_many([f"batch={quick_marker}"] * 20, wait_run=False)
    client.close_many(quick)

    def registered() -> set[str]:
        return {event["sid"] for event in tracked.events.events("registered", batch=quick_marker)}

    def all_ended() -> bool:
        return all(tracked.events.events("end", sid=session_id) for session_id in registered())

    wait_until(all_ended, message="every quick session that registered to end")
    for session_id in registered():
        assert len(tracked.events.events("start", sid=session_id)) == 1
        assert len(tracked.events.events("end", sid=session_id)) == 1


def test_a_session_that_never_registered_is_seen_too(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    session = client.open("register=0")
    assert session.session_id is not None

    start = tracked.events.wait_for("start", sid=session.session_id)[0]
    assert start["registered"] is False
    assert start["owner"] is None
    session.close()
    end = tracked.ended(session.session_id)
    assert end["registered"] is False


def test_raising_callbacks_do_not_stop_tracking_of_other_sessions(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    raising = client.open_many(["raise=1"] * 3)
    calm = client.open_many([""] * 3)

    # Sessions whose own callbacks raise are still tracked...
    for session_id in ids(raising):
        tracked.events.wait_for("heartbeat", count=3, sid=session_id)
        assert tracked.events.events("cb_heartbeat", sid=session_id) == []
    # ...and the others' callbacks keep running.
    for session_id in ids(calm):
        tracked.events.wait_for("cb_heartbeat", count=3, sid=session_id)
    client.close_many(raising + calm)
    for session_id in ids(raising + calm):
        tracked.ended(session_id)
    assert "raised; tracking goes on" in tracked.server.log_tail(400)


def test_a_dropped_connection_that_resumes_keeps_its_session(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    session = client.open()
    assert session.session_id is not None
    tracked.events.wait_for("start", sid=session.session_id)

    session.drop()
    disconnect = tracked.events.wait_for("disconnect", sid=session.session_id)[0]
    session.resume()
    tracked.events.wait_for("resume", sid=session.session_id)
    tracked.events.wait_for(
        "heartbeat",
        sid=session.session_id,
        where=lambda beat: beat["t"] > disconnect["disconnected_at"] + GRACE_S + HEARTBEAT_S,
    )
    assert tracked.events.events("end", sid=session.session_id) == []
    session.close()
    tracked.ended(session.session_id)


def test_tasks_survive_until_the_last_session_of_their_owner_ends(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    owner = new_owner_token()
    first, second = client.open_many([f"owner={owner}&job=1"] * 2)
    assert f"owner={owner}" in first.query_string
    assert first.session_id is not None and second.session_id is not None
    tracked.events.wait_for("task", owner=owner, status="IN_PROGRESS")

    first.close()
    tracked.ended(first.session_id)
    assert tracked.events.events("task", owner=owner, status="CANCELLING") == []

    closed_at = time.time()
    second.close()
    cancelled = tracked.events.wait_for("task", owner=owner, status="CANCELLED")[0]
    assert cancelled["t"] - closed_at >= GRACE_S  # never before the grace window


def test_presence_flips_with_the_first_and_the_last_session(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    def latest_presence() -> bool | None:
        found = tracked.events.events("presence")
        return found[-1]["present"] if found else None

    wait_until(lambda: latest_presence() is False, message="nobody connected")
    before = len(tracked.events.events("presence"))

    first = client.open()
    wait_until(lambda: latest_presence() is True, message="someone connected")
    second = client.open()
    first.close()
    assert first.session_id is not None and second.session_id is not None
    tracked.ended(first.session_id)
    assert latest_presence() is True
    closed_at = time.time()
    second.close()
    wait_until(lambda: latest_presence() is False, message="nobody connected again")

    flips = tracked.events.events("presence")[before:]
    assert [flip["present"] for flip in flips] == [True, False]
    assert flips[-1]["t"] - closed_at >= GRACE_S


def test_live_sessions_list_client_details(
    tracked: TrackerServer, client: StreamlitWsClient
) -> None:
    session = client.open()
    # Counts are as of the latest tick: wait for one that saw the first run finished.
    tracked.events.wait_for(
        "heartbeat", sid=session.session_id, where=lambda beat: beat["script_runs"] == 1
    )

    listing = client.open("view=sessions")
    live = {info["sid"]: info for info in json.loads(listing.texts[0])}
    info = live[str(session.session_id)]
    assert info["state"] == "connected"
    assert info["user_agent"] == USER_AGENT
    assert info["client_ip"] == "127.0.0.1"
    assert info["page"] == "tracker_app"
    assert info["script_runs"] == 1
    assert info["registered"] is True
    assert info["owner"].startswith("session:")  # this client keeps no cookie
    client.close_many([session, listing])
    tracked.ended(str(session.session_id))
