"""Delivering the tracker's events: sessions' own callbacks, then global listeners.

Runs on the tracker thread, outside the lock. A callback that raises is logged once
per session or listener and counted; tracking goes on. After ``stop()`` nothing is
called, and a listener removed meanwhile is skipped even inside a batch.
"""

from __future__ import annotations

import logging
import threading

from sessions import runtime
from sessions.info import SessionCallback, SessionListener
from sessions.records import Event, EventKind

# The tracker's logger: these lines belong to it, and operators filter on its name.
logger = logging.getLogger("sessions.tracker")


class Listener:
    """One ``add_listener`` call: the functions it gave, by event kind."""

    __slots__ = ("by_kind", "removed")

    def __init__(self, by_kind: dict[EventKind, SessionListener]) -> None:
        self.by_kind = by_kind
        #: Set under the lock by its remove(); a batch being emitted skips it from then on.
        self.removed = False


def check_callable(name: str, fn: object) -> None:
    """Refuse a non-callable at once, not later on the tracker thread."""
    if fn is not None and not callable(fn):
        raise TypeError(f"{name} must be callable, got {type(fn).__name__}")


def index_listeners(
    listeners: tuple[Listener, ...],
) -> dict[EventKind, tuple[tuple[SessionListener, Listener], ...]]:
    """For each event kind, the functions to call (with the listener they belong to)."""
    index: dict[EventKind, list[tuple[SessionListener, Listener]]] = {}
    for listener in listeners:
        for kind, fn in listener.by_kind.items():
            index.setdefault(kind, []).append((fn, listener))
    return {kind: tuple(fns) for kind, fns in index.items()}


class SessionCallouts:
    """Calling out from the tracker; the attributes are the tracker's."""

    _lock: threading.Lock
    _stopping: bool
    _by_kind: dict[EventKind, tuple[tuple[SessionListener, Listener], ...]]
    _reported: set[object]
    _callback_errors: int

    def _emit(self, events: list[Event]) -> None:
        """Deliver a pass's events: each session's own callback first, then the listeners."""
        by_kind = self._by_kind
        for event in events:
            if self._stopping:
                return
            if event.callback is not None:
                self._call_session(event, event.callback)
            if event.kind == "end":
                # Its last own callback is over: drop its log-once key, or it stays for good.
                self._forget_failures(("session", event.info.session_id))
            if event.to_listeners:
                self._call_listeners(event, by_kind.get(event.kind, ()))

    def _call_session(self, event: Event, callback: SessionCallback) -> None:
        try:
            runtime.call_in_session(event.context, callback)
        except BaseException:
            self._callback_failed(
                ("session", event.info.session_id),
                f"session {event.info.session_id}'s on_{event.kind} callback",
            )

    def _call_listeners(
        self, event: Event, listeners: tuple[tuple[SessionListener, Listener], ...]
    ) -> None:
        for fn, listener in listeners:
            # Flags set under the lock by stop() / remove(): read on each call, so that
            # neither lets another call through once it returned.
            if self._stopping:
                return
            if listener.removed:
                continue
            try:
                fn(event.info)
            except BaseException:
                self._callback_failed(("listener", id(listener)), f"on_{event.kind} listener")

    def _callback_failed(self, key: object, what: str) -> None:
        with self._lock:
            self._callback_errors += 1
        if self._report_once(key, f"sessions: {what} raised; tracking goes on"):
            return
        logger.debug("sessions: %s raised again", what, exc_info=True)

    def _forget_failures(self, key: object) -> None:
        with self._lock:
            self._reported.discard(key)

    def _report_once(self, key: object, message: str, *, exc_info: bool = True) -> bool:
        """Log ``message`` (with the exception being handled), the first time for ``key``."""
        with self._lock:
            first = key not in self._reported
            self._reported.add(key)
        if first:
            logger.warning(message, exc_info=exc_info)
        return first
