"""The process-wide task manager, created once per server with ``st.cache_resource``."""

from __future__ import annotations

import streamlit as st

from taskmgr.manager import AsyncTaskManager
from taskmgr.settings import positive_float, positive_int, read_setting

#: Tasks waiting across all owners at most, unless ``TASKMGR_MAX_QUEUED`` says otherwise.
DEFAULT_MAX_QUEUED = 1000


def manager_from_settings() -> AsyncTaskManager:
    """A manager configured by ``TASKMGR_*`` environment variables or secrets."""
    max_running = read_setting("TASKMGR_MAX_RUNNING_PER_OWNER", 0, int)
    return AsyncTaskManager(
        max_workers=read_setting("TASKMGR_MAX_WORKERS", 8, positive_int),
        max_queued_per_owner=read_setting("TASKMGR_MAX_QUEUED_PER_OWNER", 100, positive_int),
        max_running_per_owner=max_running if max_running > 0 else None,
        result_ttl_s=read_setting("TASKMGR_RESULT_TTL_S", 3600.0, positive_float),
        max_results=read_setting("TASKMGR_MAX_RESULTS", 10_000, positive_int),
        max_async=read_setting("TASKMGR_MAX_ASYNC", 100, positive_int),
        max_queued=read_setting("TASKMGR_MAX_QUEUED", DEFAULT_MAX_QUEUED, positive_int),
        backend=read_setting("TASKMGR_BACKEND", "threads", str),
    )


def _release(manager: AsyncTaskManager) -> None:
    manager.shutdown(wait=False, cancel=True)


@st.cache_resource(show_spinner=False, on_release=_release)
def get_task_manager(task_type: str = "default") -> AsyncTaskManager:
    """The shared manager for ``task_type``; every session of the server gets the same one."""
    return manager_from_settings()
