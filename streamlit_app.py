"""Home: what the app does, and this tab's unfinished tasks.

The page follows the initialize()/loop() skeleton: ``initialize()`` sets up the
session's state once; ``loop()`` runs on every rerun and first fetches what only the
browser can tell (behind a guard that stops the run until it is there).
"""

from __future__ import annotations

import streamlit as st

from app import session
from app.layout import page_header
from app.page_icon import PAGE_ICON
from app.services import services
from app.task_view import render_own_tasks
from jobs import JOBS

st.set_page_config(page_title="streamlit-taskpool", page_icon=PAGE_ICON, layout="wide")


def initialize() -> None:
    session.initialize()


def loop() -> None:
    user = session.loop_prelude()
    page_header(user)

    st.title("streamlit-taskpool")
    st.markdown(
        "Start long jobs and keep using the page while they run. Every job runs in the "
        "background on one shared pool of workers, taking turns fairly with everyone "
        "else's. Progress and partial results update by themselves; you can cancel a "
        "job, switch pages or refresh, and find it where you left it. Closing the tab "
        "cancels what is still running once the tab has been gone for a little while."
    )
    st.markdown(
        "On the **Jobs** page: "
        + ", ".join(f"*{job.title.lower()}*" for job in JOBS.values())
        + ". The **Admin** page (password protected) shows who is connected and everything "
        "that runs, and lets the operator cancel tasks and broadcast a message."
    )
    st.page_link("pages/1_Jobs.py", label="Start a job", icon=":material/play_circle:")

    st.subheader("Your unfinished tasks")
    render_own_tasks(
        user.owner,
        unfinished_only=True,
        empty_text="Nothing running. Start a job on the Jobs page.",
    )

    stats = services().manager.stats()
    busy, waiting, queued, kept = st.columns(4)
    busy.metric("Workers busy (all users)", f"{stats.running} / {stats.max_workers}")
    waiting.metric("Async tasks running", f"{stats.async_running} / {stats.max_async}")
    queued.metric("Tasks queued (all users)", stats.queued + stats.async_queued)
    kept.metric("Results kept", stats.retained)


if not session.is_initialized():
    initialize()
if session.is_initialized():
    loop()
