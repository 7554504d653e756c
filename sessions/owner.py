"""Owner tokens: one stable, unguessable id per browser tab, kept in the URL.

A page reload is a new Streamlit session with an empty ``st.session_state``,
but the URL survives it. Tasks owned by the token are therefore found again
after F5, and the reaper cancels them only once no session of the tab is left.
Whoever has the URL has the token: a copied link (or a duplicated tab) shares
the owner's tasks, like any capability URL.
"""

from __future__ import annotations

import re
import secrets
from typing import Final

#: The query-string parameter that carries the token.
OWNER_PARAM: Final = "owner"

_STATE_KEY: Final = "_sessions_owner_token"
_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{16,128}")


def new_owner_token() -> str:
    """A fresh token: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def is_owner_token(value: object) -> bool:
    return isinstance(value, str) and _TOKEN_SHAPE.fullmatch(value) is not None


def owner_token() -> str:
    """This tab's token, from a script run; puts it in the URL if it is not there.

    Stable within a session (``st.session_state``), taken from the URL by the
    first run of a reloaded tab, and new for a new tab. A malformed value in the
    URL is replaced, never trusted.
    """
    import streamlit as st

    token = st.session_state.get(_STATE_KEY)
    if not is_owner_token(token):
        from_url = st.query_params.get(OWNER_PARAM)
        token = from_url if is_owner_token(from_url) else new_owner_token()
        st.session_state[_STATE_KEY] = token
    assert isinstance(token, str)
    if st.query_params.get(OWNER_PARAM) != token:
        st.query_params[OWNER_PARAM] = token
    return token
