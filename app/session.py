"""One browser tab's state: set up once per session, completed from the browser in loop().

Every page starts with ``enter_page()``: a visitor may open any page first (a bookmark,
a refresh), so each page runs the same ``initialize()``/``loop()`` prelude.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

import streamlit as st

from app.services import services
from sessions import current_page_hash, current_session_is_gone, owner_token, serve_page_links
from ui.markdown_text import literal

_INITIALIZED = "initialized"
_STATE = "app"

Tone = Literal["success", "info", "warning", "error"]


@dataclass(frozen=True)
class Notice:
    """A message a callback leaves for the next run to show."""

    tone: Tone
    text: str

    def show(self) -> None:
        """As text: a notice may quote what the user typed or uploaded."""
        getattr(st, self.tone)(literal(self.text))


@dataclass
class UserState:
    """What the app keeps per session, in ``st.session_state["app"]``."""

    #: The browser's time zone; the browser sends it with its rerun requests.
    timezone: str | None = None
    #: This tab's owner token (``sessions.owner_token``): the tasks it owns survive a refresh.
    owner: str = ""
    #: Streamlit's id of this session, as the tracker knows it.
    session_id: str = ""
    #: True once the Admin page's password was given in this session.
    admin: bool = False
    #: The latest outcome of each job form (job key -> notice), shown under the form
    #: until the user opens another job's tab or another page.
    form_notices: dict[str, Notice] = field(default_factory=dict)
    #: The page of the latest full run (Streamlit's hash of it).
    page: str | None = None
    #: Messages from callbacks (a refused login, say), shown once at the top of the page.
    notices: list[Notice] = field(default_factory=list)
    #: The broadcast this user closed; a newer one shows again.
    dismissed_broadcast: str | None = None
    #: The broadcast on air when the page was last drawn in full (None: none was).
    broadcast_seen: str | None = None

    def show_notice(self, key: str) -> None:
        """The outcome a form's callback left under ``key``, if any."""
        notice = self.form_notices.get(key)
        if notice is not None:
            notice.show()

    @property
    def zone(self) -> ZoneInfo:
        """The browser's zone if the zone database has it, else UTC (the browser says
        what it likes: ``America``, a path, 5,000 characters)."""
        return ZoneInfo(known_zone(self.timezone) or "UTC")


#: Longer than any name in the zone database.
_MAX_ZONE_NAME = 64


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def known_zone(name: object) -> str | None:
    """``name`` if it is a zone of the zone database, else None."""
    if isinstance(name, str) and len(name) <= _MAX_ZONE_NAME and name in _zone_names():
        return name
    return None


def initialize() -> None:
    """Create this session's state. Nothing from the browser here: it is not there yet."""
    st.session_state[_STATE] = UserState()
    st.session_state[_INITIALIZED] = True


def is_initialized() -> bool:
    return bool(st.session_state.get(_INITIALIZED, False)) and isinstance(
        st.session_state.get(_STATE), UserState
    )


def user() -> UserState:
    """This session's state (``initialize()`` must have run)."""
    state = st.session_state[_STATE]
    assert isinstance(state, UserState)
    return state


def loop_prelude() -> UserState:
    """The start of every ``loop()``: browser values behind a guard, then tracking.

    The time zone is the browser's (times on the Admin page are shown in it). It comes
    with the browser's rerun requests, not with the session: until a request has
    brought it the page stops here, and a request that does bring it carries on.
    """
    if browser_gone():
        st.stop()
    state = user()
    if state.timezone is None:
        state.timezone = st.context.timezone
        if state.timezone is None:
            st.caption("Connecting…")
            st.stop()
    page = current_page_hash()
    if page != state.page:  # a form's outcome belongs to the visit that submitted it
        state.form_notices.clear()
        state.page = page
    state.owner = owner_token()
    state.session_id = services().tracker.register_session(owner=state.owner)
    serve_page_links()  # once per server: a deep link (/Jobs) then finds the server at once
    return state


def browser_gone() -> bool:
    """True for a run of a session whose tab has closed.

    server-state reruns every session that read a shared value, for as long as
    Streamlit keeps the session (``server.disconnectedSessionTTL``), tab or no tab.
    Such a run must do nothing: drawing is wasted, and registering would bring the
    session back to life on the Admin page.
    """
    return current_session_is_gone()


def enter_page() -> UserState:
    """``initialize()`` once per session, then the loop prelude; what every page calls first."""
    if not is_initialized():
        initialize()
    return loop_prelude()


def notify(tone: Tone, text: str) -> None:
    """Leave a message for the next run of this session (from a callback)."""
    user().notices.append(Notice(tone, text))


def take_notices() -> list[Notice]:
    state = user()
    notices, state.notices = state.notices, []
    return notices
