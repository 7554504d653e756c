"""The Admin page's REST API section: issue a user token (shown once) and revoke one.

Only a token's SHA-256 is stored (``store.tokens``), so a token lost is a token revoked
and issued again."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import session
from app.services import services
from app.session import Notice, UserState
from store.sql import SqlStore
from store.tokens import IssuedToken, TokenNameError, TokenRegistry

_ACTIONS = "admin-token-actions"
_ISSUED = "admin-token-issued"


def registry() -> TokenRegistry | None:
    backend = services().store.backend
    return TokenRegistry(backend.engine) if isinstance(backend, SqlStore) else None


def panel(state: UserState) -> None:
    st.subheader("REST API tokens")
    tokens = registry()
    if tokens is None:
        st.caption("The REST API needs the SQL store.")
        return
    with st.form("admin-token-form", clear_on_submit=True):
        st.text_input("Name of the new token", key="admin-token-name", max_chars=64)
        st.form_submit_button("Issue token", on_click=_on_issue)
    issued: IssuedToken | None = st.session_state.pop(_ISSUED, None)
    if issued is not None:
        st.success(
            f"Token for owner `{issued.owner}`. Copy it now: it is shown only this once.",
            icon=":material/key:",
        )
        st.code(issued.token, language=None)
    records = tokens.list()
    if records:
        zone = state.zone
        rows = [
            {
                "name": record.name,
                "owner": record.owner,
                "issued": pd.Timestamp(record.created_at, unit="s", tz="UTC").tz_convert(zone),
            }
            for record in records
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, key="admin-token-table")
        st.selectbox("Token", [record.name for record in records], key="admin-token-revoke-name")
        st.button("Revoke token", key="admin-token-revoke", on_click=_on_revoke)
    else:
        st.caption("No user tokens yet.")
    state.show_notice(_ACTIONS)


def _on_issue() -> None:
    tokens = registry()
    name = str(st.session_state.get("admin-token-name") or "").strip()
    if tokens is None:
        return
    try:
        st.session_state[_ISSUED] = tokens.issue(name)
        session.user().form_notices.pop(_ACTIONS, None)
    except TokenNameError as exc:
        session.user().form_notices[_ACTIONS] = Notice("error", str(exc))


def _on_revoke() -> None:
    tokens = registry()
    name = st.session_state.get("admin-token-revoke-name")
    if tokens is None or not name:
        return
    done = tokens.revoke(str(name))
    text = f"Token {name!r} revoked." if done else f"Token {name!r} was already gone."
    session.user().form_notices[_ACTIONS] = Notice("success", text)
