"""A user's tasks as cards: progress, partial results, elapsed time, place in line, cancel.

What changes every second is small: a running task's progress line and its latest
partial result. Each unfinished task's card is drawn by the page's run (frame, title,
cancel button) around a fragment that redraws only that part, once a second. The
fragment redraws the whole page when the owner's unfinished tasks or their statuses
change (one started, ended or is cancelling, or another tab of the owner started one);
finished tasks do not change and are drawn by the page's run alone. A page with no
unfinished task has no fragment and no timer: an idle tab costs nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import streamlit as st

from app import session, tasks
from app.layout import follow_broadcast
from app.services import services
from app.settings import TASKS_REFRESH_S
from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus
from ui import StreamlitOutput
from ui.markdown_text import literal

#: Finished tasks shown under the unfinished ones, newest first.
MAX_FINISHED_SHOWN = 10
#: Unfinished tasks that refresh themselves (each is one fragment run a second).
MAX_LIVE_SHOWN = 5

#: What a page's run drew of the unfinished tasks: their ids and statuses, in order.
LiveState = tuple[tuple[Hashable, TaskStatus], ...]


def render_own_tasks(owner: str, *, unfinished_only: bool = False, empty_text: str = "") -> None:
    """The owner's tasks; the unfinished ones refresh themselves."""
    own = tasks.own_tasks(owner)
    unfinished = [task for task in own if not task.is_final]
    finished = [] if unfinished_only else [task for task in own if task.is_final]
    if not unfinished and not finished:
        if empty_text:
            st.caption(empty_text)
        return
    drawn = live_state(unfinished)
    for task in unfinished[:MAX_LIVE_SHOWN]:
        task_card(task, owner, live=drawn)
    for task in unfinished[MAX_LIVE_SHOWN:]:
        task_card(task, owner)
    if len(unfinished) > MAX_LIVE_SHOWN:
        st.caption(
            f"The {len(unfinished) - MAX_LIVE_SHOWN} task(s) above refresh when one of the "
            f"first {MAX_LIVE_SHOWN} ends."
        )
    for task in finished[:MAX_FINISHED_SHOWN]:
        task_card(task, owner)
    if len(finished) > MAX_FINISHED_SHOWN:
        hidden = len(finished) - MAX_FINISHED_SHOWN
        st.caption(f"{hidden} older finished task(s) not shown.")


def live_state(unfinished: Sequence[TaskSnapshot]) -> LiveState:
    return tuple((task.id, task.status) for task in unfinished)


def task_card(task: TaskSnapshot, owner: str, *, live: LiveState | None = None) -> None:
    """One task: title and cancel button, then its progress or its outcome, then its data.

    With ``live`` (what the page drew), the progress and data refresh themselves.
    """
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
        if live is None:
            StreamlitOutput().result(task)
        else:
            live_part = st.fragment(_live_part, run_every=TASKS_REFRESH_S)
            live_part(services().manager, owner, task.id, live)


def _live_part(manager: AsyncTaskManager, owner: str, task_id: Hashable, drawn: LiveState) -> None:
    """One tick of one card: its progress line and latest partial result, nothing else.

    The manager comes from the page's run: a tick looks nothing up.
    """
    follow_broadcast(session.user())
    unfinished = tasks.unfinished_of(manager, owner)
    if live_state(unfinished) != drawn:
        st.rerun(scope="app")  # started, ended, cancelling, or new: redraw the page
    for task in unfinished:
        if task.id == task_id:
            StreamlitOutput().result(task)


def _on_cancel(owner: str, task_id: str) -> None:
    tasks.cancel_task(owner, task_id)
