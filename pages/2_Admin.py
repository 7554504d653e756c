"""Admin: who is connected, what runs, and the operator's actions (behind a password)."""

from __future__ import annotations

import streamlit as st

from app import admin_view, api_tokens, session, store_admin
from app.layout import page_header
from app.page_icon import PAGE_ICON

st.set_page_config(
    page_title="Admin · streamlit-taskpool",
    page_icon=PAGE_ICON,
    layout="wide",
)
user = session.enter_page()
page_header(user)

st.title("Admin")
if not admin_view.gate(user):
    st.stop()

admin_view.log_out_button()
admin_view.broadcast_form()
admin_view.broadcast_notice(user)
admin_view.limits_panel()
admin_view.dask_dashboard()
admin_view.live_panel(user)
store_admin.panel(user)
api_tokens.panel(user)
