"""A user's tasks as cards: progress, partial results, elapsed time, place in line, cancel.

The list is a fragment that reruns itself every second only while one of the tasks is
unfinished; once they have all ended it asks for one full rerun, which draws the list
again without a timer, so an idle page does not poll.
"""

from __future__ import annotations

import streamlit as st

from app import session, tasks
from app.layout import follow_broadcast
from app.settings import TASKS_REFRESH_S
from taskmgr import TaskSnapshot, TaskStatus
from ui import StreamlitOutput
from ui.markdown_text import literal

#: Finished tasks shown under the unfinished ones, newest first.
MAX_FINISHED_SHOWN = 10


def render_own_tasks(owner: str, *, unfinished_only: bool = False, empty_text: str = "") -> None:
    """The owner's tasks, refreshing themselves while any is unfinished."""
    polling = tasks.has_unfinished(tasks.own_tasks(owner))
    live_list = st.fragment(_task_list, run_every=TASKS_REFRESH_S if polling else None)
    live_list(owner, polling, unfinished_only, empty_text)


def _task_list(owner: str, polling: bool, unfinished_only: bool, empty_text: str) -> None:
    follow_broadcast(session.user())
    own = tasks.own_tasks(owner)
    if polling and not tasks.has_unfinished(own):
        st.rerun(scope="app")  # all ended: redraw the page without the refresh timer
    unfinished = [task for task in own if not task.is_final]
    finished = [] if unfinished_only else [task for task in own if task.is_final]
    if not unfinished and not finished:
        if empty_text:
            st.caption(empty_text)
        return
    for task in unfinished + finished[:MAX_FINISHED_SHOWN]:
        task_card(task, owner)
    if len(finished) > MAX_FINISHED_SHOWN:
        hidden = len(finished) - MAX_FINISHED_SHOWN
        st.caption(f"{hidden} older finished task(s) not shown.")


def task_card(task: TaskSnapshot, owner: str) -> None:
    """One task: title and cancel button, then its progress or its outcome, then its data."""
    with st.container(border=True, key=f"task-{task.id}"):
        title, action = st.columns([5, 1], vertical_alignment="center")
        title.markdown(f"**{literal(tasks.task_title(task))}**")
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
