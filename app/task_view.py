"""A user's tasks as cards: progress, partial results, elapsed time, place in line, cancel.

What changes every second is small: a running task's progress line and its latest
partial result. Each unfinished task's card is drawn by the page's run (frame, title,
cancel button) around a fragment that redraws only that part, once a second. The
fragment redraws the whole page when the owner's unfinished tasks or their statuses
change (one started, ended or is cancelling, or another tab of the owner started one);
finished tasks do not change and are drawn by the page's run alone. The owner's tasks
that run in another process (read from the store) are drawn by the page's run too, and
a fragment looks at them every few seconds: the page redraws when one of them ends or is
interrupted (its process found dead). A page with no unfinished task has no fragment and
no timer: an idle tab costs nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import streamlit as st

from app import session, tasks
from app.layout import follow_broadcast
from app.services import services
from app.settings import ELSEWHERE_REFRESH_S, TASKS_REFRESH_S
from jobs import JobParamError
from taskmgr import AsyncTaskManager, ManagerClosed, QueueFull, TaskSnapshot, TaskStatus
from ui import StreamlitOutput
from ui.format import format_percent
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
    # Unfinished tasks of another process (from the store) are drawn with the page only.
    unfinished = [task for task in own if not task.is_final and not tasks.is_stored(task)]
    elsewhere = _elsewhere(own)
    finished = [] if unfinished_only else [task for task in own if task.is_final]
    if not unfinished and not elsewhere and not finished:
        if empty_text:
            st.caption(empty_text)
        return
    drawn = live_state(unfinished)
    for task in unfinished[:MAX_LIVE_SHOWN]:
        task_card(task, owner, live=drawn)
    for task in unfinished[MAX_LIVE_SHOWN:] + elsewhere:
        task_card(task, owner)
    if elsewhere:
        watch = st.fragment(_watch_elsewhere, run_every=ELSEWHERE_REFRESH_S)
        watch(owner, live_state(elsewhere))
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


def _watch_elsewhere(owner: str, drawn: LiveState) -> None:
    """Redraw the page once the owner's tasks in other processes are no longer as drawn."""
    if live_state(_elsewhere(tasks.own_tasks(owner))) != drawn:
        st.rerun(scope="app")


def _elsewhere(own: Sequence[TaskSnapshot]) -> list[TaskSnapshot]:
    """The unfinished tasks read from the store: another process runs them."""
    return [task for task in own if not task.is_final and tasks.is_stored(task)]


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
