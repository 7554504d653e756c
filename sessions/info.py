"""What the tracker knows about one session: its state and an immutable record of it."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import NamedTuple


class SessionState(Enum):
    """CONNECTED -> DISCONNECTED (for up to ``grace_s``) -> ENDED; back to CONNECTED on resume."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ENDED = "ended"


class SessionInfo(NamedTuple):
    """One session as the tracker saw it; times are epoch seconds (``time.time()``).

    An immutable record (a named tuple: the tracker makes one per session per
    heartbeat, so it has to be cheap; ``info._asdict()`` gives a dict).
    """

    session_id: str
    #: The tab's owner token, known once the session registered; None before that (a session
    #: Streamlit resumes after the tracker ended it gets it back from its session state).
    owner: str | None
    state: SessionState
    started_at: float
    #: The last tick that saw the session connected; None until the first one.
    last_heartbeat: float | None
    #: When the browser went away; None while connected.
    disconnected_at: float | None
    user_agent: str | None
    client_ip: str | None
    #: The page of the session's latest script run; None before the first run.
    page: str | None
    #: Completed script runs of the session (fragment runs excluded), as of the latest tick.
    script_runs: int
    #: True once the session called ``register_session``.
    registered: bool = False


#: A global listener: called on the tracker thread with the session's record.
SessionListener = Callable[[SessionInfo], None]

#: A per-session callback: no arguments; that session's ``st.session_state`` is reachable.
SessionCallback = Callable[[], None]
