"""The process-wide tracker, created once per server with ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from sessions.tracker import SessionCallbackManager
from taskmgr.settings import non_negative_float, positive_float, read_setting


def tracker_from_settings() -> SessionCallbackManager:
    """A tracker configured by ``SESSIONS_HEARTBEAT_S`` and ``SESSIONS_GRACE_S``."""
    return SessionCallbackManager(
        heartbeat_interval_s=read_setting("SESSIONS_HEARTBEAT_S", 2.0, positive_float),
        grace_s=read_setting("SESSIONS_GRACE_S", 30.0, non_negative_float),
    )


def _release(tracker: SessionCallbackManager) -> None:
    tracker.stop()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_tracker() -> SessionCallbackManager:
    """The server's one tracker; every session gets the same one."""
    return tracker_from_settings()
