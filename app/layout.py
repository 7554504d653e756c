"""What sits at the top of every page: the operator's broadcast and one-off notices."""

from __future__ import annotations

import streamlit as st

from app import broadcast, session
from app.session import UserState
from ui.markdown_text import literal


def page_header(state: UserState) -> None:
    navigation()
    show_broadcast(state)
    for notice in session.take_notices():
        notice.show()


def navigation() -> None:
    """The sidebar's links (the default page list would call the home page "streamlit app")."""
    with st.sidebar:
        st.page_link("streamlit_app.py", label="Home", icon=":material/home:")
        st.page_link("pages/1_Jobs.py", label="Jobs", icon=":material/play_circle:")
        st.page_link("pages/2_Admin.py", label="Admin", icon=":material/admin_panel_settings:")


def show_broadcast(state: UserState) -> None:
    """The message on air, unless this user closed it; the page follows it (server-state)."""
    message = broadcast.current()
    state.broadcast_seen = None if message is None else message.id
    if message is None or message.id == state.dismissed_broadcast:
        return
    if broadcast.is_dismissed(state.owner, message.id):
        state.dismissed_broadcast = message.id
        return
    with st.container(key="broadcast"):
        text, close = st.columns([8, 1], vertical_alignment="center")
        text.info(
            f"**Message from the operator:** {literal(message.text)}", icon=":material/campaign:"
        )
        close.button("Dismiss", key="broadcast-dismiss", on_click=_dismiss, args=(message.id,))


def follow_broadcast(state: UserState) -> None:
    """From a fragment: redraw the whole page if the broadcast changed since it was drawn.

    server-state reruns a page the way its browser last asked, and a page that polls
    last asked for a fragment run, which would leave the banner outside it stale.
    """
    message = broadcast.current()
    if (None if message is None else message.id) != state.broadcast_seen:
        st.rerun(scope="app")


def _dismiss(message_id: str) -> None:
    state = session.user()
    state.dismissed_broadcast = message_id
    broadcast.dismiss(state.owner, message_id)  # for this owner's other sessions too
