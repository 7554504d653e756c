"""Real servers running tests/compat/apps/session_app.py on octostar's manager or ours."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tests.support.event_log import EventLog
from tests.support.fixtures import ServerFactory
from tests.support.server import StreamlitServer
from tests.support.ws_client import StreamlitWsClient, WsSession

APP = Path(__file__).parent / "apps" / "session_app.py"
#: Ours: a disconnect longer than this ends the session (octostar ends it at its next tick).
GRACE_S = 6.0
#: Both tick every 2 s (octostar's is fixed).
HEARTBEAT_S = 2.0


@dataclass
class SessionServer:
    """One implementation's server, the events its callbacks wrote, and a client."""

    name: str
    server: StreamlitServer
    events: EventLog
    client: StreamlitWsClient

    @property
    def ours(self) -> bool:
        return self.name == "ours"

    def open(self, query: str = "") -> WsSession:
        return self.client.open(query)


def fields(session: WsSession) -> dict[str, str]:
    """The page's ``key=value`` lines."""
    assert session.texts and session.texts[-1] == "ready=1", session.texts
    return dict(text.partition("=")[::2] for text in session.texts)


def start_session_server(
    name: str, factory: ServerFactory, tmp_path: Path, env: dict[str, str] | None = None
) -> SessionServer:
    events_path = tmp_path / f"{name}-events.jsonl"
    server = factory(
        APP,
        env={
            "COMPAT_IMPL": name,
            "COMPAT_EVENTS_FILE": str(events_path),
            "SESSIONS_GRACE_S": str(GRACE_S),
            "SESSIONS_HEARTBEAT_S": str(HEARTBEAT_S),
            **(env or {}),
        },
    )
    return SessionServer(name, server, EventLog(events_path), StreamlitWsClient(server.ws_url))
