"""A real server running the tracker test app, observed through its JSON-lines event file.

Each test module starts one at module scope with the settings it needs::

    @pytest.fixture(scope="module")
    def tracked(streamlit_server_factory, tmp_path_factory):
        return start_tracker_server(streamlit_server_factory, tmp_path_factory.mktemp("t"),
                                    grace_s=1.0, heartbeat_s=0.5)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.event_log import Event, EventLog
from tests.support.fixtures import ServerFactory
from tests.support.server import StreamlitServer
from tests.support.ws_client import StreamlitWsClient

APP = Path(__file__).parent / "apps" / "tracker_app.py"


@dataclass
class TrackerServer:
    server: StreamlitServer
    events: EventLog
    grace_s: float
    heartbeat_s: float

    def ended(self, session_id: str) -> Event:
        """The session's "end" event (waits up to the default deadline for it)."""
        return self.events.wait_for("end", sid=session_id)[0]


def tracker_env(events_path: Path, *, grace_s: float, heartbeat_s: float) -> dict[str, str]:
    """What the tracker test app reads: where to record its events, and the tracker's timings."""
    return {
        "SESSIONS_EVENTS_FILE": str(events_path),
        "SESSIONS_GRACE_S": str(grace_s),
        "SESSIONS_HEARTBEAT_S": str(heartbeat_s),
    }


def start_tracker_server(
    factory: ServerFactory,
    tmp_path: Path,
    *,
    grace_s: float,
    heartbeat_s: float,
    env: Mapping[str, str] | None = None,
) -> TrackerServer:
    """Start the test app and wait until its listeners are wired and no session is live.

    The first script run wires the recording listeners; a session that started
    before that has no "start" in the file. So a throwaway session runs first,
    and tests begin once it has ended.
    """
    events_path = tmp_path / "events.jsonl"
    server = factory(
        APP,
        env={
            **tracker_env(events_path, grace_s=grace_s, heartbeat_s=heartbeat_s),
            "TASKMGR_MAX_WORKERS": "4",
            **(env or {}),
        },
    )
    tracked = TrackerServer(server, EventLog(events_path), grace_s, heartbeat_s)
    with StreamlitWsClient(server.ws_url) as client:
        warm_up = client.open("register=0")
    tracked.events.wait_for("wired")
    assert warm_up.session_id is not None
    tracked.ended(warm_up.session_id)
    return tracked
