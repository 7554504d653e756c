"""Presence: hear when the first user arrives and when the last one has gone.

A user counts from the start of their session until it ENDS, so a reload or a
network blip inside the grace window is not "nobody connected". Example, a
service that costs money while it runs::

    @st.cache_resource
    def wire_presence() -> Callable[[], None]:
        service = get_expensive_service()
        return on_presence_change(
            SessionCallbackManager.get_handler(),
            on_first_connected=service.start,
            on_last_disconnected=service.stop,
        )
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sessions.info import SessionInfo
from sessions.tracker import SessionCallbackManager

logger = logging.getLogger(__name__)


def on_presence_change(
    tracker: SessionCallbackManager,
    on_first_connected: Callable[[], None] | None = None,
    on_last_disconnected: Callable[[], None] | None = None,
) -> Callable[[], None]:
    """Call ``on_first_connected`` / ``on_last_disconnected`` as presence flips.

    The two always alternate, starting with ``on_first_connected`` (at once, on
    the calling thread, if a session is live already). Later calls run on the
    tracker thread. Returns a function that stops listening.
    """
    lock = threading.RLock()
    present = False

    def flip(now_present: bool) -> None:
        nonlocal present
        with lock:
            if now_present == present:
                return
            present = now_present
            action = on_first_connected if now_present else on_last_disconnected
            if action is None:
                return
            try:
                action()
            except Exception:
                logger.exception("sessions: presence callback %r raised", action)

    def on_start(_info: SessionInfo) -> None:
        flip(True)

    def on_end(_info: SessionInfo) -> None:
        with lock:
            if tracker.live_session_count() == 0:
                flip(False)

    remove = tracker.add_listener(on_start=on_start, on_end=on_end)
    with lock:
        if tracker.live_session_count() > 0:
            flip(True)
    return remove
