"""Session lifecycle tracking for Streamlit servers, and cancelling orphaned tasks."""

from sessions.info import SessionInfo, SessionListener, SessionState
from sessions.owner import OWNER_PARAM, owner_token
from sessions.presence import on_presence_change
from sessions.reaper import reap_orphans
from sessions.runtime import (
    TESTED_STREAMLIT_VERSIONS,
    current_page_hash,
    current_session_is_gone,
    serve_page_links,
)
from sessions.tracker import SessionCallbackManager, TrackerStats

__all__ = [
    "OWNER_PARAM",
    "TESTED_STREAMLIT_VERSIONS",
    "SessionCallbackManager",
    "SessionInfo",
    "SessionListener",
    "SessionState",
    "TrackerStats",
    "current_page_hash",
    "current_session_is_gone",
    "on_presence_change",
    "owner_token",
    "reap_orphans",
    "serve_page_links",
]
