"""The server-wide pieces the app wires together once: task manager, tracker, listeners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from app import live_sessions
from app.collector import ScheduledCollector
from app.upload_quota import UploadQuota, limit_from_settings
from sessions import SessionCallbackManager, reap_orphans
from sessions.runtime import index_config_sections
from store import DurableStore, get_store
from taskmgr import AsyncTaskManager, get_task_manager


@dataclass(frozen=True)
class Services:
    manager: AsyncTaskManager
    tracker: SessionCallbackManager
    #: Bytes of uploads each owner's unfinished tasks hold.
    uploads: UploadQuota
    #: Removes the listeners this wiring added to the tracker.
    unwire: Callable[[], None]
    #: Full garbage collections off the script threads.
    collector: ScheduledCollector
    #: The durable store the manager and the tracker are attached to (``DATABASE_URL``).
    store: DurableStore


def services() -> Services:
    """The manager and the tracker, with the orphan reaper and the live-session publisher
    listening to the tracker, and both recorded in the store: wired once per server, and
    again if any was replaced (their own caches cleared)."""
    wired = _wired()
    if (
        wired.manager is not get_task_manager()
        or wired.tracker is not SessionCallbackManager.get_handler()
        or wired.store is not get_store()
    ):
        _wired.clear()
        wired = _wired()
    return wired


def _unwire(wired: Services) -> None:
    wired.unwire()


@st.cache_resource(show_spinner=False, on_release=_unwire)
def _wired() -> Services:
    index_config_sections()  # every script and fragment run reads the theme's settings
    manager = get_task_manager()
    tracker = SessionCallbackManager.get_handler()
    store = get_store()
    uploads = UploadQuota(limit_from_settings())
    removers = (
        reap_orphans(tracker, manager),
        live_sessions.follow(tracker),
        manager.add_listener(uploads.on_snapshot),
        store.attach_manager(manager),
        store.attach_tracker(tracker),
    )
    collector = _collector()

    def unwire() -> None:
        for remove in removers:
            remove()

    return Services(manager, tracker, uploads, unwire, collector, store)


@st.cache_resource(show_spinner=False, on_release=ScheduledCollector.stop)
def _collector() -> ScheduledCollector:
    """One per server: .streamlit/config.toml turns off Streamlit's collection after runs."""
    return ScheduledCollector(freeze=True).start()
