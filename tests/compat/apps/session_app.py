"""Test app: one page on octostar's SessionCallbackManager or ours, chosen by ``COMPAT_IMPL``.

Environment: ``COMPAT_IMPL`` (``octostar`` or ``ours``), ``COMPAT_EVENTS_FILE`` (the
JSON-lines file its callbacks write to, see tests/support/event_log.py).
``SESSIONS_GRACE_S`` / ``SESSIONS_HEARTBEAT_S`` configure ours.

Query string: ``action=register-again|end|heartbeat|info``; ``raise_start=1`` /
``raise_heartbeat=1`` make this session's callbacks raise. The page shows
``key=value`` lines, ``ready=1`` last.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from tests.support.event_log import EventWriter

if os.environ["COMPAT_IMPL"] == "octostar":
    from streamlit_octostar_utils.threading.session_callback_manager import (
        SessionCallbackManager,
    )
else:
    from sessions.compat import SessionCallbackManager  # type: ignore[assignment]


@st.cache_resource
def wire() -> EventWriter:
    """Once per server: the event file; for ours, the tracker's ticks and disconnects too."""
    log = EventWriter(os.environ["COMPAT_EVENTS_FILE"])
    if os.environ["COMPAT_IMPL"] == "ours":
        from sessions import SessionCallbackManager as Tracker

        Tracker.get_handler().add_listener(
            on_heartbeat=lambda info: log.write("tick", sid=info.session_id),
            on_disconnect=lambda info: log.write("disconnect", sid=info.session_id),
        )
    return log


def callback(kind: str, session_id: str, raises: bool) -> Callable[[], None]:
    """Records what it saw of this session's st.session_state, and on which thread."""

    def fn() -> None:
        log.write(
            f"cb_{kind}",
            sid=session_id,
            marker=st.session_state.get("marker"),
            thread=threading.current_thread().name,
        )
        if kind == "start":
            st.session_state["started"] = st.session_state.get("marker")
        if raises:
            raise RuntimeError(f"{kind} callback raises")

    return fn


log = wire()
manager = SessionCallbackManager.get_handler()
ctx = get_script_run_ctx()
assert ctx is not None
session_id = ctx.session_id
params = st.query_params

if not st.session_state.get("initialized", False):
    st.session_state["marker"] = secrets.token_hex(4)
    st.session_state["initialized"] = True
    try:
        st.session_state["registration"] = manager.register_session(
            on_session_start=callback("start", session_id, params.get("raise_start") == "1"),
            on_heartbeat=callback("heartbeat", session_id, params.get("raise_heartbeat") == "1"),
            on_session_end=callback("end", session_id, False),
        )
    except RuntimeError as exc:
        st.text(f"start_error={exc}")

action = params.get("action")
if action == "register-again":
    st.text(f"registration2={manager.register_session()}")
elif action == "end":
    manager.on_session_end(st.session_state["registration"])
    st.text(f"keys_after_end={','.join(sorted(map(str, st.session_state.keys())))}")
elif action == "heartbeat":
    manager.heartbeat()
    st.text(f"script_thread={threading.current_thread().name}")
elif action == "info":
    same = SessionCallbackManager() is manager and SessionCallbackManager.get_handler() is manager
    registered = list(manager.active_sessions.values())
    mine = [r for r in registered if r["context"].session_id == session_id]
    st.text(f"singleton={same}")
    st.text(f"registrations={len(mine)}")
    st.text(f"keys={','.join(sorted(mine[0])) if mine else ''}")
    st.text(f"ids_match={all(manager.active_sessions.get(r['session_id']) is r for r in mine)}")

st.text(f"sid={session_id}")
st.text(f"marker={st.session_state.get('marker')}")
st.text(f"started={st.session_state.get('started')}")
st.text(f"registration={st.session_state.get('registration')}")
st.text("ready=1")
