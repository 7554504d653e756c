"""A form per job, drawn from its parameters; submitting it starts the job (in a callback).

Numbers are typed as text and checked by the job itself (``Job.validate``), so empty,
negative, huge or non-numeric input gets the job's own clear message, the same words
the terminal gives.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Protocol, runtime_checkable

import streamlit as st

from app import saved_inputs, session, tasks
from app.upload_quota import UploadQuotaExceeded
from jobs import Job, JobParamError, Param, get_job
from jobs.spec import format_number
from taskmgr import ManagerClosed, QueueFull

#: Longest text accepted in a number field (the job checks the value itself).
_MAX_CHARS = 40


def widget_key(job: Job, param: Param) -> str:
    return f"job-{job.key}-{param.name}"


def render_form(job: Job) -> None:
    """The job's parameters and a Start button; the outcome of the last submit below it."""
    saved = saved_inputs.restored(job, session.user().owner)
    with st.form(f"form-{job.key}", border=True):
        for param in job.params:
            _param_widget(job, param, saved.get(param.name, param.default))
        st.form_submit_button(
            "Start", type="primary", on_click=_on_submit, args=(job.key,), key=f"start-{job.key}"
        )
    session.user().show_notice(job.key)


def forget_notices() -> None:
    """Drop the forms' outcomes (another job's tab was opened: they are old news)."""
    session.user().form_notices.clear()


def _param_widget(job: Job, param: Param, initial: Any) -> None:
    """One field, given as its default the value the server holds for it on every run.

    The browser shows a widget's default whenever it draws the widget without a value
    of its own (a first draw, or after it dropped the form's values); a default that
    differed from the held value (an empty one, say) would show, and be submitted, as
    if the user had typed it. ``initial`` (the saved or the job's default) counts until
    the widget holds a value; nothing is written to ``st.session_state``.
    """
    key = widget_key(job, param)
    held = st.session_state.get(key, initial)
    help_text = " ".join(part for part in (param.help, _accepted(param)) if part)
    if param.kind == "file":
        st.file_uploader(param.label, key=key, help=help_text)
    elif param.kind == "bool":
        st.checkbox(param.label, value=bool(held), key=key, help=help_text)
    elif param.kind == "choice":
        index = param.choices.index(held) if held in param.choices else 0
        st.selectbox(param.label, param.choices, index=index, key=key, help=help_text)
    else:
        st.text_input(
            param.label,
            value=_as_text(held),
            key=key,
            help=help_text,
            max_chars=_max_chars(param),
        )


def _max_chars(param: Param) -> int | None:
    if param.kind in ("int", "float"):
        return _MAX_CHARS
    return int(param.maximum) if param.kind == "str" and param.maximum else None


def _accepted(param: Param) -> str:
    text = param.range_text()
    return f"Accepted: {text}." if text else ""


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_number(value).replace(",", "")
    return str(value)


def _on_submit(job_key: str) -> None:
    """Start the job with the form's values, or say what is wrong with them."""
    job = get_job(job_key)
    state = session.user()
    try:
        raw = {param.name: _raw_value(job, param) for param in job.params}
        saved_inputs.save(job, state.owner, raw)
        task = tasks.start_job(job, raw, state.owner)
    except JobParamError as exc:
        state.form_notices[job.key] = session.Notice("error", describe_param_error(job, exc))
    except (QueueFull, UploadQuotaExceeded) as exc:
        state.form_notices[job.key] = session.Notice("error", f"Not started: {exc}.")
    except ManagerClosed:
        state.form_notices[job.key] = session.Notice(
            "error", "Not started: the server is shutting down. Try again in a moment."
        )
    else:
        state.form_notices[job.key] = session.Notice(
            "success", f"Started “{job.title}” as task {task.id}."
        )


@runtime_checkable
class _Upload(Protocol):
    """What ``st.file_uploader`` returns, as far as the form needs it."""

    name: str

    def getvalue(self) -> bytes: ...


def _raw_value(job: Job, param: Param) -> Any:
    value = st.session_state.get(widget_key(job, param))
    if param.kind != "file":
        return value
    if value is None:
        return None
    if not isinstance(value, _Upload):
        raise JobParamError(f"{param.name}: expected an uploaded file", param.name)
    _check_extension(param, value.name)
    return value.getvalue()


def _check_extension(param: Param, filename: str) -> None:
    """The type is checked here rather than by the uploader, to say it in the form's words."""
    if not param.choices:
        return
    suffix = PurePath(filename).suffix.lower().lstrip(".")
    if suffix not in param.choices:
        kinds = ", ".join(f".{ext}" for ext in param.choices)
        raise JobParamError(
            f"{param.name}: {filename!r} has the wrong type; expected one of {kinds}", param.name
        )


def describe_param_error(job: Job, exc: JobParamError) -> str:
    """``Rows per chunk: must be at least 10, got -5``: the field's label, then the reason."""
    message = str(exc)
    if exc.param is None:
        return message
    try:
        label = job.param(exc.param).label
    except KeyError:
        return message
    return f"{label}: {message.removeprefix(f'{exc.param}: ')}"
