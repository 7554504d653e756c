"""A job form's last submitted values, kept per owner in the store (``persisted_state``).

A refresh empties ``st.session_state`` and a restart loses the process: the form then
comes back with what the user last started the job with. Files are not kept (they can
be large, and the browser holds them): the user picks the file again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.services import services
from jobs import Job, Param
from store import PersistedValue, ValueTooLarge, persisted_state

_KEPT_KINDS = ("int", "float", "str", "bool", "choice")


def saved_inputs(job: Job, owner: str) -> PersistedValue[dict[str, Any]]:
    return persisted_state(f"jobs.inputs.{job.key}", {}, owner=owner, durable=services().store)


def restored(job: Job, owner: str) -> dict[str, Any]:
    """The values the owner last started the job with, by parameter name (those still valid)."""
    values = saved_inputs(job, owner).value
    if not isinstance(values, dict):
        return {}
    kept: dict[str, Any] = {}
    for param in job.params:
        if param.name not in values or not _kept(param):
            continue
        value = values[param.name]
        if param.kind == "choice" and value not in param.choices:
            continue
        kept[param.name] = value
    return kept


def save(job: Job, owner: str, raw: Mapping[str, Any]) -> None:
    """Keep what the form held when the job started (written behind, never blocks)."""
    kept = {param.name: raw.get(param.name) for param in job.params if _kept(param)}
    try:
        saved_inputs(job, owner).set(kept)
    except (ValueTooLarge, TypeError):  # the job started all the same; only the memo is lost
        return


def _kept(param: Param) -> bool:
    return param.kind in _KEPT_KINDS
