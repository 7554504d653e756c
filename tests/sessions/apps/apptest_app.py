"""AppTest app: registers with the tracker where there is no real runtime to list sessions."""

from __future__ import annotations

import streamlit as st

from sessions import SessionCallbackManager, owner_token
from tests.sessions.apps import apptest_calls

st.session_state.setdefault("marker", f"marker-{len(apptest_calls.CALLS)}")


def record(kind: str) -> None:
    apptest_calls.CALLS.append((kind, st.session_state.get("marker")))


tracker = SessionCallbackManager.get_handler()
session_id = tracker.register_session(
    on_session_start=lambda: (record("start"), st.session_state.update(started=True)),
    on_heartbeat=lambda: record("heartbeat"),
    on_session_end=lambda: record("end"),
)
st.text(f"session={session_id}")
st.text(f"owner={owner_token()}")
st.text(f"marker={st.session_state['marker']}")
st.text(f"started={st.session_state.get('started', False)}")
