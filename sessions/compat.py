"""streamlit-octostar-utils' SessionCallbackManager, built on our tracker.

``from sessions.compat import SessionCallbackManager`` gives octostar 0.9.16's
singleton, ``register_session`` (a new registration on each call, its
``on_session_start`` run at once in the calling script run), ``active_sessions``,
``heartbeat()``, ``on_session_end(registration_id)`` (which clears the session's
``st.session_state``) and ``start_monitoring()``. The server's one tracker thread
does the watching: no thread of its own, a raising callback stops nothing, and a
network blip inside the grace window (``SESSIONS_GRACE_S``) keeps the session and
its state. docs/compat.md lists every difference.
"""

from __future__ import annotations

import functools
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any, ClassVar

from sessions import runtime
from sessions.info import SessionCallback, SessionState
from sessions.runtime import ScriptContext
from sessions.tracker import SessionCallbackManager as SessionTracker

logger = logging.getLogger(__name__)

#: What ``active_sessions`` holds per registration, as in octostar: ``session_id`` (the
#: registration's id), ``context``, ``runtime`` and the three wrapped callbacks.
Registration = dict[str, Any]
WrappedCallback = Callable[[ScriptContext | None], None]

_instance_lock = threading.Lock()


class SessionCallbackManager:
    """octostar's session callback manager: one per process (``SessionCallbackManager()``)."""

    instance: ClassVar[SessionCallbackManager | None] = None
    initialized: bool
    active_sessions: dict[str, Registration]
    monitoring_thread_lock: threading.Lock

    def __new__(cls, *args: object, **kwargs: object) -> SessionCallbackManager:
        with _instance_lock:
            if cls.instance is None:
                created = super().__new__(cls)
                created.initialized = False
                cls.instance = created
            return cls.instance

    def __init__(self) -> None:
        with _instance_lock:
            if self.initialized:
                return
            self.initialized = True
            #: Registrations by their id (octostar's name: they are not Streamlit sessions).
            self.active_sessions = {}
            #: Guards ``active_sessions`` (octostar's name for its one lock).
            self.monitoring_thread_lock = threading.Lock()
            self._by_session: dict[str, list[str]] = {}
            self._tracker: SessionTracker | None = None
            self._reported: set[tuple[str, str]] = set()

    @staticmethod
    def get_handler() -> SessionCallbackManager:
        """The singleton, as ``SessionCallbackManager()`` gives it."""
        return SessionCallbackManager()

    @staticmethod
    def callback_wrapper(callback_fn: SessionCallback | None) -> WrappedCallback:
        """``callback_fn`` as a function of a script context, called with it attached."""

        def _callback(st_context: ScriptContext | None) -> None:
            if callback_fn is not None:
                runtime.call_in_session(st_context, callback_fn)

        return _callback

    # -- octostar's methods ---------------------------------------------------------------

    @property
    def monitoring_thread_active(self) -> bool:
        tracker = self._tracker
        return tracker is not None and not tracker.stopped

    def start_monitoring(self) -> None:
        """Make sure the server's tracker runs (it is shared, and started on first use)."""
        self._current_tracker()

    def register_session(
        self,
        on_session_start: SessionCallback | None = None,
        on_heartbeat: SessionCallback | None = None,
        on_session_end: SessionCallback | None = None,
    ) -> str:
        """A new registration of the calling session; returns its id (a new one each call).

        ``on_session_start`` runs now, in this script run; ``on_heartbeat`` on every
        tick while the session is connected; ``on_session_end`` once it ended
        (``SESSIONS_GRACE_S`` after its browser left), after which its
        ``st.session_state`` is cleared.
        """
        for name, fn in (
            ("on_session_start", on_session_start),
            ("on_heartbeat", on_heartbeat),
            ("on_session_end", on_session_end),
        ):
            if fn is not None and not callable(fn):
                raise TypeError(f"{name} must be callable, got {type(fn).__name__}")
        registration_id = str(uuid.uuid4())
        context = runtime.current_context()
        if context is None:
            logger.warning("sessions: register_session() outside a script run tracks nothing")
            if on_session_start is not None:
                on_session_start()
            return registration_id
        session_id: str = context.session_id
        tracker = self._current_tracker()
        with self.monitoring_thread_lock:
            self.active_sessions[registration_id] = {
                "session_id": registration_id,
                "context": runtime.callback_context(session_id),
                "runtime": runtime.runtime_instance(),
                "on_session_start": self.callback_wrapper(on_session_start),
                "on_heartbeat": self.callback_wrapper(on_heartbeat),
                "on_session_end": self.callback_wrapper(on_session_end),
            }
            self._by_session.setdefault(session_id, []).append(registration_id)
        tracker.register_session(
            on_heartbeat=functools.partial(self._session_beat, session_id),
            on_session_end=functools.partial(self._session_ended, session_id),
            owner=session_id,
        )
        if on_session_start is not None:
            on_session_start()  # on this thread, in this run: as in octostar, errors reach it
        return registration_id

    def on_session_start(self, session_id: str) -> None:
        """Run registration ``session_id``'s start callback again (with its session attached)."""
        registration = self.active_sessions[session_id]
        registration["on_session_start"](registration["context"])
        self.start_monitoring()

    def heartbeat(self) -> None:
        """One pass now, on this thread: beat connected sessions, end the ended ones.

        A session inside its grace window (browser briefly gone) is left alone.
        """
        tracker = self._tracker
        with self.monitoring_thread_lock:
            registrations = list(self.active_sessions.items())
        for registration_id, registration in registrations:
            context = registration["context"]
            info = None if tracker is None else tracker.get_session(context.session_id)
            if info is None:
                self._end_logged(registration_id)
            elif info.state is SessionState.CONNECTED:
                self._call_logged(registration, "on_heartbeat")

    def on_session_end(self, session_id: str) -> None:
        """End registration ``session_id`` now: its end callback, then clear its session's state.

        An error in the callback reaches the caller, after the state was cleared.
        """
        with self.monitoring_thread_lock:
            registration = self.active_sessions.pop(session_id, None)
            if registration is None:
                return
            self._reported.discard((session_id, "on_heartbeat"))
            streamlit_id = registration["context"].session_id
            ids = self._by_session.get(streamlit_id, [])
            if session_id in ids:
                ids.remove(session_id)
            if not ids:
                self._by_session.pop(streamlit_id, None)
        try:
            registration["on_session_end"](registration["context"])
        finally:
            runtime.clear_session_state(registration["context"])

    # -- on the tracker thread --------------------------------------------------------------

    def _current_tracker(self) -> SessionTracker:
        """The server's tracker (a new one if the old was stopped, e.g. its cache cleared)."""
        tracker = SessionTracker.get_handler()
        self._tracker = tracker
        return tracker

    def _session_beat(self, streamlit_id: str) -> None:
        with self.monitoring_thread_lock:
            ids = list(self._by_session.get(streamlit_id, ()))
            registrations = [self.active_sessions[i] for i in ids if i in self.active_sessions]
        for registration in registrations:
            self._call_logged(registration, "on_heartbeat")

    def _session_ended(self, streamlit_id: str) -> None:
        with self.monitoring_thread_lock:
            ids = list(self._by_session.get(streamlit_id, ()))
        for registration_id in ids:
            self._end_logged(registration_id)

    def _end_logged(self, registration_id: str) -> None:
        try:
            self.on_session_end(registration_id)
        except BaseException:
            self._failed(registration_id, "on_session_end")

    def _call_logged(self, registration: Registration, kind: str) -> None:
        try:
            registration[kind](registration["context"])
        except BaseException:
            self._failed(registration["session_id"], kind)

    def _failed(self, registration_id: str, kind: str) -> None:
        """Log a callback's error, with its traceback the first time (a heartbeat repeats)."""
        with self.monitoring_thread_lock:
            first = (registration_id, kind) not in self._reported
            if kind == "on_heartbeat" and registration_id in self.active_sessions:
                self._reported.add((registration_id, kind))  # on_session_end forgets it
        if first:
            logger.exception("sessions: %s of registration %s raised", kind, registration_id)
        else:
            logger.debug("sessions: %s of %s raised again", kind, registration_id, exc_info=True)
