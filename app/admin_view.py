"""The Admin page's parts: the gate, the broadcast form, the live tables and the actions."""

from __future__ import annotations

from collections.abc import Hashable

import streamlit as st

from app import admin_gate, admin_tables, broadcast, client_address, live_sessions, session
from app.action_picker import action_picker
from app.layout import follow_broadcast
from app.services import services
from app.session import Notice, UserState
from app.settings import ADMIN_REFRESH_S
from app.text_table import text_table
from taskmgr import TaskStatus, UnknownTask
from ui.format import status_label

_PASSWORD_KEY = "admin-password"
_ACTIONS = "admin-actions"
_BROADCAST_KEY = "admin-broadcast"
_TASKS_PAGE = "admin-tasks-page"
#: Unfinished tasks offered in the task picker, oldest first.
_MAX_PICKABLE = 200

HOW_TO_SET_PASSWORD = """\
The Admin page is closed because no admin password is configured. Set one, then
restart the app:

- either copy `.streamlit/secrets.example.toml` to `.streamlit/secrets.toml` and set
  `ADMIN_PASSWORD = "…"` there (that file is git-ignored),
- or export it: `ADMIN_PASSWORD='…' ./main.sh`.
"""


@st.cache_resource(show_spinner=False)
def login_throttle() -> admin_gate.LoginThrottle:
    """One per server, so that failures count across sessions and tabs."""
    return admin_gate.LoginThrottle.from_settings()


def gate(state: UserState) -> bool:
    """True when this session may see the page; otherwise draws why not, or the login form."""
    if admin_gate.admin_password() is None:
        st.warning(HOW_TO_SET_PASSWORD, icon=":material/lock:")
        return False
    if state.admin:
        return True
    with st.form("admin-login-form"):
        st.text_input("Admin password", type="password", key=_PASSWORD_KEY)
        st.form_submit_button("Log in", type="primary", on_click=_on_login, key="admin-login")
    return False


def _on_login() -> None:
    given = str(st.session_state.get(_PASSWORD_KEY) or "")
    # The password is not kept: the field is emptied before it is drawn again.
    st.session_state[_PASSWORD_KEY] = ""
    expected = admin_gate.admin_password()
    if expected is None:
        return
    outcome = admin_gate.attempt_login(given, expected, _client(), login_throttle())
    if outcome.ok:
        session.user().admin = True
    else:
        session.notify("error", outcome.message)


def _client() -> str:
    """Who failed, keyed on what the client cannot forge (see ``client_address``)."""
    address = st.context.ip_address
    return client_address.client_key(
        address if isinstance(address, str) and address else None,
        dict(st.context.headers),
        client_address.trusted_proxies(),
    )


def log_out_button() -> None:
    st.sidebar.button("Log out of Admin", key="admin-logout", on_click=_on_log_out)


def _on_log_out() -> None:
    session.user().admin = False


def broadcast_form() -> None:
    """Send a message to every user's page, or take the current one down."""
    on_air = broadcast.current()
    with st.form("admin-broadcast-form", clear_on_submit=True):
        st.text_area(
            "Broadcast a message to every user",
            key=_BROADCAST_KEY,
            max_chars=broadcast.MAX_LENGTH,
            placeholder="The server restarts at 18:00; save your work.",
            height=80,
        )
        st.form_submit_button(
            "Send to everyone", on_click=_on_broadcast, key="admin-broadcast-send"
        )
    if on_air is not None:
        st.button("Clear the broadcast", key="admin-broadcast-clear", on_click=broadcast.clear)


def _on_broadcast() -> None:
    state = session.user()
    try:
        broadcast.send(str(st.session_state.get(_BROADCAST_KEY) or ""))
    except broadcast.BroadcastError as exc:
        state.form_notices[_BROADCAST_KEY] = Notice("error", str(exc))
    else:
        state.form_notices.pop(_BROADCAST_KEY, None)


def broadcast_notice(state: UserState) -> None:
    state.show_notice(_BROADCAST_KEY)


def limits_panel() -> None:
    """The limits in force, and where each is set."""
    wired = services()
    manager = wired.manager
    limits = admin_tables.Limits(
        max_workers=manager.max_workers,
        reserve=manager.reserve,
        max_running_per_owner=manager.max_running_per_owner,
        max_queued_per_owner=manager.max_queued_per_owner,
        max_queued=manager.max_queued,
        max_upload_mb=float(st.get_option("server.maxUploadSize")),
        uploads_per_owner_mb=wired.uploads.limit_bytes / (1024 * 1024),
    )
    with st.expander("Limits", icon=":material/tune:"):
        _table(admin_tables.limit_rows(limits), "limits")


def dask_dashboard() -> None:
    """A link to the Dask cluster's dashboard, drawn only when tasks run on Dask."""
    link = services().manager.dashboard_link
    if link is None:
        return
    st.link_button(
        "Dask dashboard", link, icon=":material/monitoring:", help="Workers, tasks and memory"
    )


def live_panel(state: UserState) -> None:
    """Sessions, tasks, pool and actions; redrawn every few seconds, and at once (through
    server-state) when a session comes or goes."""
    live_sessions.current()  # binds this page to the shared list
    st.fragment(_live_tables, run_every=ADMIN_REFRESH_S, key="admin-live")(state)


def _live_tables(state: UserState) -> None:
    follow_broadcast(state)
    wired = services()
    sessions = wired.tracker.live_sessions()
    all_tasks = wired.manager.list_all_tasks()
    stats = wired.manager.stats()
    zone = state.zone

    connected = sum(1 for live in live_sessions.current() if live.state == "connected")
    sessions_col, workers_col, queued_col, cancelling_col = st.columns(4)
    sessions_col.metric("Sessions connected", connected)
    workers_col.metric("Workers busy", f"{stats.running} / {stats.max_workers}")
    queued_col.metric("Tasks queued", stats.queued)
    cancelling_col.metric("Cancelling", stats.cancelling)

    st.subheader("Live sessions")
    counts = admin_tables.task_counts(all_tasks)
    _table(admin_tables.session_rows(sessions, counts, zone, me=state.session_id), "sessions")

    st.subheader("All tasks")
    ordered = admin_tables.admin_order(all_tasks)
    shown, pages = admin_tables.page_of(ordered, int(st.session_state.get(_TASKS_PAGE, 1)))
    _table(admin_tables.task_rows(shown, zone), "tasks", empty="No tasks yet.")
    if pages > 1:
        st.number_input(
            f"Page (of {pages:,}; {len(ordered):,} tasks)",
            min_value=1,
            max_value=pages,
            step=1,
            key=_TASKS_PAGE,
        )

    st.subheader("Pool")
    st.text(admin_tables.loop_text(stats))  # text, not markdown: it names a task
    st.caption(f"{stats.running} of {stats.max_workers} workers busy; queue depth per owner:")
    _table(admin_tables.queue_rows(stats), "queue", empty="Nothing running or queued.")

    st.subheader("Actions")
    task_col, session_col = st.columns(2)
    pickable = [task for task in ordered if not task.is_final][:_MAX_PICKABLE]
    labels = {(task.owner, str(task.id)): admin_tables.task_label(task, zone) for task in pickable}
    unfinished = list(labels)
    with task_col:
        action_picker(
            "Task",
            unfinished,
            lambda key: labels.get(key, str(key[1])),
            key="admin-task",
            placeholder="No unfinished task",
            action="Cancel task",
            action_key="admin-cancel-task",
            on_action=_on_cancel_task,
        )
    owners = [(info.session_id, info.owner) for info in sessions if info.owner]
    with session_col:
        action_picker(
            "Session",
            owners,
            lambda key: f"{admin_tables.short(key[0])} (owner {admin_tables.owner_label(key[1])})",
            key="admin-session",
            placeholder="No session with an owner",
            action="Cancel all tasks of this session",
            action_key="admin-cancel-session",
            on_action=_on_cancel_session,
        )
    state.show_notice(_ACTIONS)


def _table(rows: list[dict[str, object]], name: str, empty: str = "Nothing to show.") -> None:
    text_table(rows, f"admin-{name}", empty)


def _on_cancel_task() -> None:
    selected = st.session_state.get("admin-task")
    if not selected:
        return
    owner, task_id = selected
    session.user().form_notices[_ACTIONS] = cancel_task(owner, task_id)


def cancel_task(owner: Hashable, task_id: Hashable) -> Notice:
    """Cancel one task and say where it stands, by owner (every user has a
    ``batch_steps-1``). What the task is, not what this call changed: a second press
    on a task that the first press cancelled reports it cancelled, not "ended"."""
    manager = services().manager
    which = f"{task_id} of {admin_tables.owner_label(owner)}"
    if manager.cancel(task_id, owner=owner):
        return Notice("success", f"Cancel requested for task {which}.")
    try:
        task = manager.get_result(task_id, owner=owner)
    except UnknownTask:
        return Notice("info", f"Task {which} is no longer listed: it ended and was cleared.")
    if task.status is TaskStatus.CANCELLED:
        return Notice("success", f"Task {which} is cancelled.")
    return Notice("info", f"Task {which} had already ended ({status_label(task)}).")


def _on_cancel_session() -> None:
    selected = st.session_state.get("admin-session")
    if not selected:
        return
    session_id, owner = selected
    count = _cancel_owner(owner)
    which = f"session {admin_tables.short(session_id)}"
    session.user().form_notices[_ACTIONS] = (
        Notice("success", f"Cancel requested for {count} task(s) of {which}.")
        if count
        else Notice("info", f"Nothing to cancel: {which} has no unfinished task.")
    )


def _cancel_owner(owner: Hashable) -> int:
    return services().manager.cancel_owner(owner)
