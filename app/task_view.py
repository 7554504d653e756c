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
from jobs import JobParamError
from taskmgr import ManagerClosed, QueueFull, TaskSnapshot, TaskStatus
from ui import StreamlitOutput
from ui.format import format_percent

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
    if polling != tasks.has_unfinished(own):
        st.rerun(scope="app")  # redraw the page with (or without) the refresh timer
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
        elif tasks.can_run_again(task):
            action.button(
                "Run again",
                key=f"again-{task.id}",
                on_click=_on_run_again,
                args=(owner, str(task.id)),
                width="stretch",
            )
        if task.status is TaskStatus.INTERRUPTED:
            last_progress(task)
        StreamlitOutput().result(task)


def last_progress(task: TaskSnapshot) -> None:
    """Where an interrupted task had got to when its process stopped."""
    done = format_percent(task.progress) or "unknown"
    text = f"Last progress: {done}" + (f" · {task.message}" if task.message else "")
    st.progress(min(1.0, max(0.0, task.progress or 0.0)), text=text)


def _on_cancel(owner: str, task_id: str) -> None:
    tasks.cancel_task(owner, task_id)


def _on_run_again(owner: str, task_id: str) -> None:
    try:
        task = tasks.run_again(owner, task_id)
    except (LookupError, JobParamError, QueueFull, ManagerClosed) as exc:
        session.notify("error", f"Not started again: {exc}")
    else:
        session.notify("success", f"Task {task_id} started again as task {task.id}.")
