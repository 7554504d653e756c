"""The tracker's records of live sessions and the events it owes their callbacks.

Plain data, guarded by the tracker's lock while they change: a record per live
session, and the events a pass gathers under the lock to deliver after it.
"""

from __future__ import annotations

import math
from typing import Final, Literal, NamedTuple

from sessions.info import SessionCallback, SessionInfo, SessionState
from sessions.runtime import Handle, ScriptContext

EventKind = Literal["start", "heartbeat", "disconnect", "resume", "end", "owner_change"]

_CONNECTED: Final = SessionState.CONNECTED


class SessionCallbacks(NamedTuple):
    on_start: SessionCallback | None
    on_heartbeat: SessionCallback | None
    on_end: SessionCallback | None


NO_CALLBACKS: Final = SessionCallbacks(None, None, None)


class Event(NamedTuple):
    kind: EventKind
    info: SessionInfo
    #: The session's own callback for this event, run with ``context`` attached.
    callback: SessionCallback | None
    context: ScriptContext | None
    #: False for a registration that only owes the session its own on_start.
    to_listeners: bool = True


class Record:
    """The tracker's mutable view of one live session (guarded by the tracker's lock)."""

    __slots__ = (
        "announced",
        "beat_from",
        "callbacks",
        "client_ip",
        "context",
        "deadline",
        "disconnected_at",
        "handle",
        "last_heartbeat",
        "owner",
        "page",
        "page_hash",
        "registered",
        "script_runs",
        "session_id",
        "start_called",
        "started_at",
        "state",
        "user_agent",
    )

    def __init__(self, session_id: str, started_at: float) -> None:
        self.session_id = session_id
        self.started_at = started_at
        self.state = _CONNECTED
        self.owner: str | None = None
        self.registered = False
        self.start_called = False
        #: A pass announced the start before any registration: listeners heard no owner.
        self.announced = False
        self.callbacks = NO_CALLBACKS
        self.context: ScriptContext | None = None
        #: The runtime's record of the session's current connection, once seen.
        self.handle: Handle | None = None
        self.user_agent: str | None = None
        self.client_ip: str | None = None
        self.page_hash = ""
        self.page: str | None = None
        self.script_runs = 0
        #: Ticks at or after this time (epoch) are this connection's heartbeats.
        self.beat_from = started_at
        #: The last heartbeat of an earlier connection (while not connected, the latest).
        self.last_heartbeat: float | None = None
        self.disconnected_at: float | None = None
        #: time.monotonic() at which a disconnected session ends.
        self.deadline = math.inf


class Visit(NamedTuple):
    """A call into one session's own state (its end hook, its owner), made after a pass,
    outside the lock: the session's script thread may hold its state's lock."""

    record: Record
    context: ScriptContext | None
    #: First seen in the runtime's list: look for an owner an earlier run registered.
    new: bool
