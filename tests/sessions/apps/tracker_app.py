"""Test app: a page that registers with the session tracker and reports what the server saw.

Everything the tracker does is written to the JSON-lines file named by
``SESSIONS_EVENTS_FILE`` (see tests/support/event_log.py), so tests and the
benchmark observe the real server from outside.

Environment: ``SESSIONS_EVENTS_FILE`` (required); ``SESSIONS_GRACE_S`` and
``SESSIONS_HEARTBEAT_S`` (the tracker's own settings); ``TEST_LOG_HEARTBEATS=0``
to leave heartbeats (and per-session heartbeat callbacks) out; ``TEST_RAISING_LISTENER=1``
to add a global listener that raises on every event, before the one that records
them; ``TEST_NOOP_HEARTBEAT_LISTENER=1`` to add a heartbeat listener that does
nothing (what a tick costs with one); ``TEST_NAIVE_POLL_S=2`` to run, beside the
tracker, the baseline it replaces: a thread that polls the session list at that
fixed interval and writes "naive_end" when a session is gone from it.

Query string: ``register=0`` (do not register: an "unregistered" session),
``job=1`` (give the tab's owner a long job unless one is running), ``batch=X`` (a
label copied into the "registered" event), ``raise=1``
(this session's own callbacks raise), ``view=stats`` / ``view=sessions`` (show
the tracker's stats / live sessions as JSON and nothing else).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sessions import (
    SessionCallbackManager,
    SessionInfo,
    SessionListener,
    on_presence_change,
    owner_token,
    reap_orphans,
)
from sessions.runtime import active_sessions
from taskmgr import TaskContext, TaskSnapshot, get_task_manager
from tests.support.event_log import EventWriter

JOB_ID = "job"
JOB_SECONDS = 600.0


def long_job(ctx: TaskContext, seconds: float) -> str:
    ctx.report(progress=0.0, message="running")
    ctx.sleep(seconds)
    return "done"


def session_fields(info: SessionInfo) -> dict[str, object]:
    fields: dict[str, object] = info._asdict()
    fields["state"] = info.state.value
    fields["sid"] = fields.pop("session_id")
    return fields


@st.cache_resource
def wire() -> EventWriter:
    """Once per server: the listeners that record events, the reaper and presence."""
    log = EventWriter(os.environ["SESSIONS_EVENTS_FILE"])
    tracker = SessionCallbackManager.get_handler()
    manager = get_task_manager()
    if os.environ.get("TEST_RAISING_LISTENER") == "1":

        def explode(info: SessionInfo) -> None:
            raise RuntimeError(f"test listener raises for {info.session_id}")

        tracker.add_listener(explode, explode, explode, on_disconnect=explode, on_resume=explode)
    # The reaper before the recorder: an "end" in the file means the reaper has acted.
    reap_orphans(tracker, manager)

    def recorder(kind: str) -> SessionListener:
        return lambda info: log.write(kind, **session_fields(info))

    log_beats = os.environ.get("TEST_LOG_HEARTBEATS", "1") == "1"
    tracker.add_listener(
        on_start=recorder("start"),
        on_heartbeat=recorder("heartbeat") if log_beats else None,
        on_end=recorder("end"),
        on_disconnect=recorder("disconnect"),
        on_resume=recorder("resume"),
    )
    on_presence_change(
        tracker,
        on_first_connected=lambda: log.write("presence", present=True),
        on_last_disconnected=lambda: log.write("presence", present=False),
    )

    def on_task(snapshot: TaskSnapshot) -> None:
        log.write(
            "task",
            owner=snapshot.owner,
            id=snapshot.id,
            status=snapshot.status.name,
            submitted_at=snapshot.submitted_at,
        )

    manager.add_listener(on_task)
    if os.environ.get("TEST_NOOP_HEARTBEAT_LISTENER") == "1":
        tracker.add_listener(on_heartbeat=lambda info: None)
    naive_poll_s = float(os.environ.get("TEST_NAIVE_POLL_S", "0"))
    if naive_poll_s > 0:
        threading.Thread(target=naive_poll, args=(log, naive_poll_s), daemon=True).start()
    log.write("wired", pid=os.getpid())
    return log


def naive_poll(log: EventWriter, interval_s: float) -> None:
    """The baseline: a fixed-interval poll of the session list (it sleeps by design)."""
    known: set[str] = set()
    while True:
        time.sleep(interval_s)  # ok: the benchmark baseline is a fixed-interval poll
        listed = active_sessions()
        now = set() if listed is None else set(listed.keys)
        for session_id in known - now:
            log.write("naive_end", sid=session_id)
        known = now


def session_callback(
    log: EventWriter, kind: str, session_id: str, raises: bool
) -> Callable[[], None]:
    """A per-session callback; it reads this session's st.session_state to prove it can."""

    def callback() -> None:
        if raises:
            raise RuntimeError(f"test callback on_{kind} raises for {session_id}")
        if kind == "start":
            st.session_state["start_ran"] = True  # the page shows it in the same run
        log.write(f"cb_{kind}", sid=session_id, marker=st.session_state.get("marker"))

    return callback


log = wire()
tracker = SessionCallbackManager.get_handler()
params = st.query_params
view = params.get("view")

if view == "stats":
    st.text(json.dumps(asdict(tracker.stats())))
elif view == "sessions":
    st.text(json.dumps([session_fields(info) for info in tracker.live_sessions()]))
else:
    ctx = get_script_run_ctx()
    assert ctx is not None
    session_id = ctx.session_id
    marker = st.session_state.setdefault("marker", secrets.token_hex(4))
    # Tests share an owner between sessions by naming it (the app's own owners come from
    # the browser's cookie, which this test client does not keep).
    owner = params.get("owner") or owner_token()
    if params.get("register") != "0":
        raises = params.get("raise") == "1"
        log_beats = os.environ.get("TEST_LOG_HEARTBEATS", "1") == "1"
        registered = tracker.register_session(
            on_session_start=session_callback(log, "start", session_id, raises),
            on_heartbeat=session_callback(log, "heartbeat", session_id, raises)
            if log_beats
            else None,
            on_session_end=session_callback(log, "end", session_id, raises),
            owner=owner,
        )
        log.write("registered", sid=registered, owner=owner, batch=params.get("batch"))
    manager = get_task_manager()
    job: TaskSnapshot | None
    try:
        job = manager.get_result(JOB_ID, owner=owner)
    except KeyError:
        job = None
    wants_job = params.get("job") == "1" or st.button("Start job")
    if wants_job and (job is None or job.status.is_final):
        job = manager.submit(JOB_ID, long_job, {"seconds": JOB_SECONDS}, owner=owner)
    st.text(f"session={session_id}")
    st.text(f"owner={owner}")
    st.text(f"marker={marker}")
    st.text(f"start_seen={st.session_state.get('start_ran', False)}")
    if job is not None:
        st.text(f"job={job.status.name} submitted={job.submitted_at!r}")
    st.text("ready=1")  # the last line: a page showing it shows all of the above
