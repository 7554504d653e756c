"""Entry page of the reference app: what it does, and the shared pool at a glance."""

from __future__ import annotations

import streamlit as st

from taskmgr import get_task_manager

st.set_page_config(page_title="streamlit-taskpool", page_icon="⏳", layout="wide")
st.title("streamlit-taskpool")
st.write(
    "Long jobs run in the background on one shared, fair thread pool, so the page stays "
    "responsive, every user gets a turn, and a closed tab's work is cancelled."
)
stats = get_task_manager().stats()
left, middle, right = st.columns(3)
left.metric("Workers busy", f"{stats.running} / {stats.max_workers}")
middle.metric("Tasks queued", stats.queued)
right.metric("Results kept", stats.retained)
