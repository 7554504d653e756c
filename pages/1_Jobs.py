"""Jobs: start a job, watch it run, cancel it, read its result."""

from __future__ import annotations

import streamlit as st

from app import session
from app.job_forms import forget_notices, render_form
from app.layout import page_header
from app.page_icon import PAGE_ICON
from app.task_view import render_own_tasks
from jobs import JOBS

st.set_page_config(page_title="Jobs · streamlit-taskpool", page_icon=PAGE_ICON, layout="wide")
user = session.enter_page()
page_header(user)

st.title("Jobs")
st.caption(
    "Each job runs in the background: start several, keep working, come back later. "
    "They stay yours across page switches, refreshes and tabs of this browser."
)

start_col, tasks_col = st.columns([9, 11], gap="large")
with start_col:
    st.subheader("Start a job")
    # Keyed and stateful, so the selection survives redraws that add or remove elements
    # above it (a broadcast banner, a notice); opening another job's tab clears the
    # forms' last outcomes.
    tabs = st.tabs([job.title for job in JOBS.values()], key="job-tabs", on_change=forget_notices)
    for tab, job in zip(tabs, JOBS.values(), strict=True):
        with tab, st.container(key=f"job-{job.key}"):
            st.markdown(job.description)
            render_form(job)

with tasks_col:
    st.subheader("Your tasks")
    render_own_tasks(user.owner, empty_text="No tasks yet: start one on the left.")
