"""An app written for streamlit-octostar-utils 0.9.16, running on streamlit-taskpool.

Only the two imports marked below differ from the octostar version of this file
(tests/compat/test_example_app.py runs both). It keeps octostar's conventions:
initialize() once per session, loop() on every run, one AsyncTaskManager handler
per task type, ids prefixed by the session (octostar's ids are global to a
handler), and a session callback that cancels the session's tasks when it ends.

    streamlit run examples/octostar_app.py

Deep links start a task: ``?run=words&text=to+be+or+not`` or ``?run=sum&n=200``;
``?cancel=sum`` cancels this session's sum; ``?lookup=<task id>`` shows any task.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import streamlit as st

# The two lines that differ. With streamlit-octostar-utils they read:
#   from streamlit_octostar_utils.threading.session_callback_manager import SessionCallbackManager
#   from streamlit_octostar_utils.threading.async_task_manager import AsyncTaskManager
from sessions.compat import SessionCallbackManager
from taskmgr.compat import AsyncTaskManager

TaskStatus = AsyncTaskManager.TaskStatus


def count_words(task_data: Any, text: str, delay: float = 0.02) -> dict[str, int]:
    counts: dict[str, int] = {}
    for n, word in enumerate(text.split(), start=1):
        task_data.cancel_event.wait(delay)  # stands for real work per word
        counts[word.lower()] = counts.get(word.lower(), 0) + 1
        task_data.output(TaskStatus.IN_PROGRESS, {"words": n})
    return counts


def slow_sum(task_data: Any, n: int, delay: float) -> int:
    total = 0
    for i in range(n):
        if task_data.cancel_event.wait(delay):
            raise AsyncTaskManager.CancelledError()
        total += i
        task_data.output(TaskStatus.IN_PROGRESS, {"i": i, "total": total})
    return total


HANDLERS = {"words": count_words, "sum": slow_sum}


def on_session_start() -> None:
    st.session_state["greeting"] = f"Welcome, session {st.session_state['prefix'][:8]}"


def on_heartbeat() -> None:
    st.session_state["last_heartbeat"] = time.time()


def on_session_end() -> None:
    """The tab is gone: cancel what it started (ids are global, so prefixed by session)."""
    for task_type, task_id in st.session_state.get("tasks", {}).items():
        AsyncTaskManager.get_handler(task_type).cancel(task_id)


def initialize() -> None:
    st.session_state["prefix"] = uuid.uuid4().hex
    st.session_state["tasks"] = {}
    st.session_state["initialized"] = True
    st.session_state["registration"] = SessionCallbackManager.get_handler().register_session(
        on_session_start=on_session_start,
        on_heartbeat=on_heartbeat,
        on_session_end=on_session_end,
    )


def submit(task_type: str, **kwargs: Any) -> None:
    task_id = f"{st.session_state['prefix']}-{task_type}"
    AsyncTaskManager.get_handler(task_type).submit(task_id, HANDLERS[task_type], kwargs)
    st.session_state["tasks"][task_type] = task_id


def whole_number(text: str, name: str) -> int:
    """A positive whole number from the URL, or an error on the page and the default."""
    if text.isdigit() and 0 < int(text) <= 1_000_000:
        return int(text)
    st.error(f"{name} must be a whole number from 1 to 1000000; using 300")
    return 300


def describe(result: dict[str, Any]) -> str:
    return f"{result['status'].name} {result['data']}"


def loop() -> None:
    st.title("Word counts and slow sums")
    st.text(st.session_state["greeting"])  # written by on_session_start, in the first run
    params = st.query_params
    text = st.text_input("Text to count", params.get("text", "to be or not to be"))
    if params.get("run") == "words" or st.button("Count words"):
        submit("words", text=text)
    n = whole_number(params.get("n", "300"), "n")
    if params.get("run") == "sum" or st.button("Start a slow sum"):
        submit("sum", n=n, delay=0.05)
    if params.get("cancel") in HANDLERS or st.button("Cancel the sum"):
        task_type = params.get("cancel", "sum")
        task_id = st.session_state["tasks"].get(task_type)
        if task_id is not None:
            AsyncTaskManager.get_handler(task_type).cancel(task_id)
    for key in ("run", "cancel", "text", "n"):
        params.pop(key, None)  # a deep link acts once, not on every rerun

    for task_type, task_id in st.session_state["tasks"].items():
        result = AsyncTaskManager.get_handler(task_type).get_result(task_id)
        st.text(f"{task_type}={describe(result)}")
        st.text(f"{task_type}_id={task_id}")
    lookup = params.get("lookup")
    if lookup:
        task_type = lookup.rpartition("-")[2]
        try:
            if task_type not in HANDLERS:
                raise KeyError(lookup)
            found = AsyncTaskManager.get_handler(task_type).get_result(lookup)
            st.text(f"lookup={describe(found)}")
        except KeyError:
            st.text("lookup=unknown task")
    st.text(f"registration={st.session_state['registration']}")
    if st.button("Refresh"):
        st.rerun()


if not st.session_state.get("initialized", False):
    initialize()
if st.session_state.get("initialized", False):
    loop()
