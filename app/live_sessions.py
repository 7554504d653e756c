"""The live session list, shared through server-state so the Admin page follows it.

The tracker's listeners publish who is there, and in what state, whenever a session
starts, disconnects, resumes or ends; every change reruns the pages that read the
list. Details that change all the time (heartbeats, pages) are left to the Admin
page's own refresh: they would rerun its readers on every tick, and a heartbeat
listener makes the tracker's ticks dearer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app import shared
from sessions import SessionCallbackManager, SessionInfo

_KEY = "live_sessions"
_published_lock = threading.Lock()


@dataclass(frozen=True)
class LiveSession:
    session_id: str
    state: str


def summary(infos: list[SessionInfo]) -> tuple[LiveSession, ...]:
    return tuple(LiveSession(info.session_id, info.state.value) for info in infos)


def publish(tracker: SessionCallbackManager) -> None:
    """Share the tracker's current list, if it changed (only a change reruns the readers)."""
    current = summary(tracker.live_sessions())
    with _published_lock:
        if shared.read_local(_KEY) == current:
            return
        shared.write(_KEY, current)


def follow(tracker: SessionCallbackManager) -> Callable[[], None]:
    """Publish on every start, disconnect, resume and end; returns a function that stops it."""

    def changed(_info: SessionInfo) -> None:
        publish(tracker)

    remove = tracker.add_listener(
        on_start=changed, on_end=changed, on_disconnect=changed, on_resume=changed
    )
    publish(tracker)
    return remove


def current() -> tuple[LiveSession, ...]:
    """The shared list; reading it from a page makes the page rerun when it changes."""
    value = shared.read(_KEY, ())
    return value if isinstance(value, tuple) else ()
