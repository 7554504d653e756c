"""The Admin page's store section: the database's health, every process, the task and
session history, and cancelling a task that runs in another process."""

from __future__ import annotations

import streamlit as st

from app import session, store_tables
from app.action_picker import action_picker
from app.admin_tables import owner_label
from app.services import services
from app.session import Notice, UserState
from app.settings import ADMIN_REFRESH_S
from app.text_table import text_table

_ACTIONS = "admin-store-actions"
#: Rows shown per history table (the store keeps more, until retention ends).
MAX_ROWS = 50


def panel(state: UserState) -> None:
    st.fragment(_store_tables, run_every=ADMIN_REFRESH_S, key="admin-store")(state)


def _store_tables(state: UserState) -> None:
    durable = services().store
    health = durable.health()
    st.subheader("Database")
    with st.container(key="admin-store-health"):
        if health.ok:
            st.success(
                f"Connected to {health.url}: {health.writer.written:,} record(s) written "
                f"in {health.writer.batches:,} batch(es).",
                icon=":material/storage:",
            )
        else:
            st.error(
                f"The database at {health.url} is unreachable ({health.problem}). The app "
                f"keeps serving from memory; {health.writer.held:,} record(s) are held and "
                f"will be written when it is back (up to {durable.settings.max_held:,}).",
                icon=":material/error:",
            )
            if health.writer.dropped:
                st.warning(f"{health.writer.dropped:,} record(s) were dropped past that bound.")
    zone = state.zone
    stored = durable.tasks()
    st.subheader("Processes")
    _table(
        store_tables.process_rows(durable.processes(), stored, zone, me=durable.process.id),
        "processes",
    )
    st.subheader("Task history (all processes)")
    _table(store_tables.stored_task_rows(stored[:MAX_ROWS], zone), "task-history")
    st.subheader("Session history")
    _table(store_tables.session_history_rows(durable.sessions()[:MAX_ROWS], zone), "sessions")

    unfinished = [(task.owner, task.task_id) for task in stored if not task.is_final]
    action_picker(
        "Task in any process",
        unfinished,
        lambda key: f"{key[1]} (owner {owner_label(key[0])})",
        key="admin-store-task",
        placeholder="No unfinished task",
        action="Cancel in its process",
        action_key="admin-store-cancel",
        on_action=_on_cancel,
    )
    state.show_notice(_ACTIONS)


def _table(rows: list[dict[str, object]], name: str) -> None:
    text_table(rows, f"admin-store-{name}", "Nothing recorded yet.")


def _on_cancel() -> None:
    selected = st.session_state.get("admin-store-task")
    if not selected:
        return
    owner, task_id = selected
    done = services().store.cancel(owner, task_id)
    text = (
        f"Cancel requested for task {task_id}; its process honours it within a heartbeat."
        if done
        else f"Task {task_id} had already ended (or the database is unreachable)."
    )
    session.user().form_notices[_ACTIONS] = Notice("success" if done else "info", text)
