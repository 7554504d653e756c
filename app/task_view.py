"""A user's tasks as cards: progress, partial results, elapsed time, place in line, cancel.

Unfinished tasks are drawn by a fragment that reruns itself every second; finished ones
do not change, so the full page run draws them once, outside it. The fragment redraws
the whole page when its set of unfinished tasks changes (one ended, or another tab of
the owner started one); with none left that page has no fragment and no timer, so an
idle page costs nothing.
"""

from __future__ import annotations

from collections.abc import Hashable

import streamlit as st

from app import session, tasks
from app.layout import follow_broadcast
from app.settings import TASKS_REFRESH_S
from taskmgr import TaskSnapshot, TaskStatus
from ui import StreamlitOutput

#: Finished tasks shown under the unfinished ones, newest first.
MAX_FINISHED_SHOWN = 10


def render_own_tasks(owner: str, *, unfinished_only: bool = False, empty_text: str = "") -> None:
    """The owner's tasks; the unfinished ones refresh themselves."""
    own = tasks.own_tasks(owner)
    unfinished = [task for task in own if not task.is_final]
    finished = [] if unfinished_only else [task for task in own if task.is_final]
    if not unfinished and not finished:
        if empty_text:
            st.caption(empty_text)
        return
    if unfinished:
        live_list = st.fragment(_live_tasks, run_every=TASKS_REFRESH_S)
        live_list(owner, tuple(task.id for task in unfinished))
    for task in finished[:MAX_FINISHED_SHOWN]:
        task_card(task, owner)
    if len(finished) > MAX_FINISHED_SHOWN:
        hidden = len(finished) - MAX_FINISHED_SHOWN
        st.caption(f"{hidden} older finished task(s) not shown.")


def _live_tasks(owner: str, drawn: tuple[Hashable, ...]) -> None:
    """One tick: the unfinished tasks drawn by the page's run, as they stand now."""
    follow_broadcast(session.user())
    unfinished = tasks.unfinished_tasks(owner)
    if tuple(task.id for task in unfinished) != drawn:
        st.rerun(scope="app")  # one ended or one started: redraw the page (and its timer)
    for task in unfinished:
        task_card(task, owner)


def task_card(task: TaskSnapshot, owner: str) -> None:
    """One task: title and cancel button, then its progress or its outcome, then its data."""
    with st.container(border=True, key=f"task-{task.id}"):
        title, action = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"**{tasks.task_title(task)}**")
        if not task.is_final:
            action.button(
                "Cancel",
                key=f"cancel-{task.id}",
                on_click=_on_cancel,
                args=(owner, str(task.id)),
                disabled=task.status is TaskStatus.CANCELLING,
                width="stretch",
            )
        StreamlitOutput().result(task)


def _on_cancel(owner: str, task_id: str) -> None:
    tasks.cancel_task(owner, task_id)
