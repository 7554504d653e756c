"""Shared values, the broadcast and the live session list, outside a server (process-local)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

import pytest

from app import broadcast, live_sessions, shared
from app.live_sessions import LiveSession
from sessions import SessionCallbackManager, SessionInfo, SessionState


@pytest.fixture(autouse=True)
def no_broadcast() -> Iterator[None]:
    broadcast.clear()
    yield
    broadcast.clear()


def test_without_a_server_values_stay_in_this_process() -> None:
    shared.write("test.value", 41)

    assert shared.read("test.value") == 41
    assert shared.read("test.missing", "default") == "default"
    assert not shared.is_pushed()


def test_broadcast_round_trip() -> None:
    sent = broadcast.send("  Restart at 18:00  ")

    assert broadcast.current() == sent
    assert sent.text == "Restart at 18:00"
    broadcast.clear()
    assert broadcast.current() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write a message first."),
        ("   \n ", "Write a message first."),
        ("x" * 501, "Keep the message under 500 characters (it has 501)."),
    ],
)
def test_unusable_broadcast_is_refused(text: str, message: str) -> None:
    with pytest.raises(broadcast.BroadcastError) as raised:
        broadcast.send(text)
    assert str(raised.value) == message
    assert broadcast.current() is None


class FakeTracker:
    """Stands in for SessionCallbackManager: a session list and the listeners given."""

    def __init__(self) -> None:
        self.sessions: list[SessionInfo] = []
        self.listeners: dict[str, Callable[[SessionInfo], None]] = {}

    def live_sessions(self) -> list[SessionInfo]:
        return list(self.sessions)

    def add_listener(self, **listeners: Callable[[SessionInfo], None] | None) -> Callable[[], None]:
        self.listeners = {kind: fn for kind, fn in listeners.items() if fn is not None}
        return self.listeners.clear


def info(session_id: str, state: SessionState = SessionState.CONNECTED) -> SessionInfo:
    return SessionInfo(session_id, None, state, 0.0, None, None, None, None, None, 0)


def test_live_sessions_follow_starts_and_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    writes: list[object] = []
    real_write = shared.write
    monkeypatch.setattr(
        shared, "write", lambda key, value: (writes.append(value), real_write(key, value))
    )
    tracker = FakeTracker()
    remove = live_sessions.follow(cast(SessionCallbackManager, tracker))
    assert set(tracker.listeners) == {"on_start", "on_end", "on_disconnect", "on_resume"}

    tracker.sessions = [info("a")]
    tracker.listeners["on_start"](info("a"))
    tracker.listeners["on_start"](info("a"))  # nothing changed: nothing written
    tracker.sessions = [info("a", SessionState.DISCONNECTED)]
    tracker.listeners["on_disconnect"](info("a"))

    assert live_sessions.current() == (LiveSession("a", "disconnected"),)
    assert writes[-2:] == [(LiveSession("a", "connected"),), (LiveSession("a", "disconnected"),)]
    remove()
    assert tracker.listeners == {}
