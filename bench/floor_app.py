"""Streamlit's floor for bench/load_sessions.py: the Jobs page's form and a polling fragment.

The same form as the batch job's (same widget keys), and a fragment that reruns every
second while the "job" runs and reads its progress from a plain dict: no task manager,
no session tracker, no tables. What a tick of the real page costs beyond this is ours.
"""

from __future__ import annotations

import time
import uuid

import streamlit as st


@st.cache_resource
def jobs() -> dict[str, tuple[float, int, float]]:
    """Session key -> (started at, steps, seconds per step): the "jobs", in a plain dict
    that outlives script runs."""
    return {}


def _start() -> None:
    steps = int(st.session_state["job-batch_steps-steps"])
    step_s = float(st.session_state["job-batch_steps-step_s"])
    jobs()[st.session_state["me"]] = (time.time(), steps, step_s)


def _progress() -> None:
    started, steps, step_s = jobs()[st.session_state["me"]]
    done = min(steps, int((time.time() - started) / step_s))
    st.progress(done / steps, text=f"Running · step {done}/{steps} done")


if "me" not in st.session_state:
    st.session_state["me"] = uuid.uuid4().hex
st.title("Jobs")
with st.form("form-batch_steps"):
    st.text_input("Steps", value="20", key="job-batch_steps-steps")
    st.text_input("Seconds per step", value="0.25", key="job-batch_steps-step_s")
    st.text_input("Fail at step", value="0", key="job-batch_steps-fail_at")
    st.form_submit_button("Start", on_click=_start, key="start-batch_steps")
if st.session_state["me"] in jobs():
    st.fragment(_progress, run_every=1.0)()
