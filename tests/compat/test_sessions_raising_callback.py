"""A heartbeat callback that raises: octostar's monitoring thread dies with it, for every
session of the server; ours logs it and goes on. Servers of their own: this breaks
octostar's for good."""

from __future__ import annotations

import pytest

from tests.compat.session_servers import HEARTBEAT_S, fields, start_session_server
from tests.support.fixtures import ServerFactory
from tests.support.wait import WaitTimeout

pytestmark = pytest.mark.server

#: Ticks of octostar's (dead) thread that would have come while the test watches.
WATCHED_TICKS = 3


@pytest.mark.parametrize("name", ["octostar", "ours"])
def test_a_raising_heartbeat_callback(
    name: str, streamlit_server_factory: ServerFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    quick = {"SESSIONS_HEARTBEAT_S": "0.5", "SESSIONS_GRACE_S": "1"}  # ours only
    app = start_session_server(
        name, streamlit_server_factory, tmp_path_factory.mktemp(name), env=quick
    )
    try:
        raiser = fields(app.open("raise_heartbeat=1"))
        other_session = app.open()
        other = fields(other_session)
        (raised,) = app.events.wait_for("cb_heartbeat", sid=raiser["sid"])[:1]
        assert raised["marker"] == raiser["marker"]
        if app.ours:  # the other session's heartbeats go on
            seen = len(app.events.events("cb_heartbeat", sid=other["sid"]))
            app.events.wait_for("cb_heartbeat", count=seen + 2, sid=other["sid"])
        other_session.close()
        if app.ours:
            app.events.wait_for("cb_end", sid=other["sid"])
        else:  # the monitoring thread is dead: no end for anyone any more
            with pytest.raises(WaitTimeout):
                app.events.wait_for("cb_end", sid=other["sid"], timeout=WATCHED_TICKS * HEARTBEAT_S)
    finally:
        app.client.shutdown()
