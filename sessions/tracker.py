"""SessionCallbackManager: one daemon thread that tracks every session's life.

The thread waits on a condition, never polls in a loop. It wakes

- every ``heartbeat_interval_s``, to diff the runtime's sessions against its own
  records (this finds sessions that never registered) and emit heartbeats;
- at once when a session registers, or when a session's end hook (a
  session-scoped ``st.cache_resource`` release) says its browser went away;
- when a disconnected session's grace window runs out, to end it on time.

States follow ``SessionState``; every change and every callback happen on the
tracker thread, outside the lock. Callbacks that raise are logged and the
thread goes on; after ``stop()`` none runs.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple

from sessions import runtime
from sessions.info import SessionCallback, SessionInfo, SessionListener, SessionState
from sessions.owner import owner_token
from sessions.runtime import ActiveSessions, Handle, ScriptContext

logger = logging.getLogger(__name__)

EventKind = Literal["start", "heartbeat", "disconnect", "resume", "end", "owner_change"]

_CONNECTED: Final = SessionState.CONNECTED
_DISCONNECTED: Final = SessionState.DISCONNECTED
_ENDED: Final = SessionState.ENDED

#: Where ``register_session`` keeps the session's owner in its ``st.session_state``, so
#: that a session Streamlit resumes after the tracker ended it gets its owner back.
_OWNER_STATE_KEY: Final = "_sessions_registered_owner"


@dataclass(frozen=True, slots=True)
class TrackerStats:
    """Counters of the tracker thread; CPU is the thread's own (``time.thread_time``)."""

    sessions: int
    #: Passes of the loop: heartbeat ticks plus wake-ups by registrations, hooks, deadlines.
    passes: int
    cpu_s: float
    #: Heartbeat ticks, and the CPU they took (diff, heartbeats and their callbacks).
    ticks: int
    tick_cpu_s: float
    max_tick_cpu_s: float
    #: How many live sessions there were at the latest tick.
    last_tick_sessions: int
    callback_errors: int


class _SessionCallbacks(NamedTuple):
    on_start: SessionCallback | None
    on_heartbeat: SessionCallback | None
    on_end: SessionCallback | None


_NO_CALLBACKS: Final = _SessionCallbacks(None, None, None)


class _Listener:
    """One ``add_listener`` call: the functions it gave, by event kind."""

    __slots__ = ("by_kind", "removed")

    def __init__(self, by_kind: dict[EventKind, SessionListener]) -> None:
        self.by_kind = by_kind
        #: Set under the lock by its remove(); a batch being emitted skips it from then on.
        self.removed = False


def _check_callable(name: str, fn: object) -> None:
    """Refuse a non-callable at once, not later on the tracker thread."""
    if fn is not None and not callable(fn):
        raise TypeError(f"{name} must be callable, got {type(fn).__name__}")


def _index_listeners(
    listeners: tuple[_Listener, ...],
) -> dict[EventKind, tuple[tuple[SessionListener, _Listener], ...]]:
    """For each event kind, the functions to call (with the listener they belong to)."""
    index: dict[EventKind, list[tuple[SessionListener, _Listener]]] = {}
    for listener in listeners:
        for kind, fn in listener.by_kind.items():
            index.setdefault(kind, []).append((fn, listener))
    return {kind: tuple(fns) for kind, fns in index.items()}


class _Event(NamedTuple):
    kind: EventKind
    info: SessionInfo
    #: The session's own callback for this event, run with ``context`` attached.
    callback: SessionCallback | None
    context: ScriptContext | None
    #: False for a registration that only owes the session its own on_start.
    to_listeners: bool = True


class _Record:
    """The tracker's mutable view of one live session (guarded by the tracker's lock)."""

    __slots__ = (
        "announced",
        "beat_from",
        "callbacks",
        "client_ip",
        "context",
        "deadline",
        "disconnected_at",
        "handle",
        "last_heartbeat",
        "owner",
        "page",
        "page_hash",
        "registered",
        "script_runs",
        "session_id",
        "start_called",
        "started_at",
        "state",
        "user_agent",
    )

    def __init__(self, session_id: str, started_at: float) -> None:
        self.session_id = session_id
        self.started_at = started_at
        self.state = _CONNECTED
        self.owner: str | None = None
        self.registered = False
        self.start_called = False
        #: A pass announced the start before any registration: listeners heard no owner.
        self.announced = False
        self.callbacks = _NO_CALLBACKS
        self.context: ScriptContext | None = None
        #: The runtime's record of the session's current connection, once seen.
        self.handle: Handle | None = None
        self.user_agent: str | None = None
        self.client_ip: str | None = None
        self.page_hash = ""
        self.page: str | None = None
        self.script_runs = 0
        #: Ticks at or after this time (epoch) are this connection's heartbeats.
        self.beat_from = started_at
        #: The last heartbeat of an earlier connection (while not connected, the latest).
        self.last_heartbeat: float | None = None
        self.disconnected_at: float | None = None
        #: time.monotonic() at which a disconnected session ends.
        self.deadline = math.inf


class _Visit(NamedTuple):
    """A call into one session's own state (its end hook, its owner), made after a pass,
    outside the lock: the session's script thread may hold its state's lock."""

    record: _Record
    context: ScriptContext | None
    #: First seen in the runtime's list: look for an owner an earlier run registered.
    new: bool


class SessionCallbackManager:
    """Tracks every session of the server: start, heartbeat, disconnect, resume, end.

    One per server: ``SessionCallbackManager.get_handler()``. A session that
    disconnects is DISCONNECTED for ``grace_s`` seconds; if Streamlit resumes it
    (a network blip) it is CONNECTED again, otherwise it ENDS.
    """

    def __init__(self, heartbeat_interval_s: float = 2.0, grace_s: float = 30.0) -> None:
        if not (
            isinstance(heartbeat_interval_s, (int, float)) and 0 < heartbeat_interval_s < math.inf
        ):
            raise ValueError(
                f"heartbeat_interval_s must be a finite number > 0, got {heartbeat_interval_s!r}"
            )
        if not (isinstance(grace_s, (int, float)) and 0 <= grace_s < math.inf):
            raise ValueError(f"grace_s must be a finite number >= 0, got {grace_s!r}")
        self.heartbeat_interval_s = float(heartbeat_interval_s)
        self.grace_s = float(grace_s)

        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._records: dict[str, _Record] = {}
        #: Runtime identity of each session's connection, as of the latest pass.
        self._keys: dict[str, int] = {}
        #: Connected or not, the sessions that gave an on_heartbeat callback.
        self._beat_callbacks: dict[str, _Record] = {}
        self._last_beat: float | None = None
        self._owners: dict[str, set[str]] = {}
        self._released: dict[str, float] = {}
        self._pending: list[_Event] = []
        self._listeners: tuple[_Listener, ...] = ()
        self._by_kind = _index_listeners(())
        self._beat_listeners = False
        self._signalled = False
        self._stopping = False
        #: The runtime's sessions can be listed (as of the latest pass).
        self._listing = runtime.active_sessions() is not None
        self._next_deadline = math.inf
        #: Sessions ended lately, until Streamlit may still run them (monotonic time), oldest
        #: first: a late run of one must not start it again while its browser is gone.
        self._ended: dict[str, float] = {}
        self._ended_kept_s = runtime.disconnected_session_ttl()
        self._page_names: dict[str, str] = {}
        self._reported: set[object] = set()

        self._passes = 0
        self._cpu_s = 0.0
        self._ticks = 0
        self._tick_cpu_s = 0.0
        self._max_tick_cpu_s = 0.0
        self._last_tick_sessions = 0
        self._callback_errors = 0

        runtime.check_streamlit_version()
        self._thread = threading.Thread(target=self._run, name="sessions-tracker", daemon=True)
        self._thread.start()

    # -- the process-wide tracker -------------------------------------------------------

    @staticmethod
    def get_handler() -> SessionCallbackManager:
        """The server's tracker (``st.cache_resource``), configured by ``SESSIONS_*`` settings."""
        from sessions.resource import get_tracker

        return get_tracker()

    # -- sessions -----------------------------------------------------------------------

    def register_session(
        self,
        on_session_start: SessionCallback | None = None,
        on_heartbeat: SessionCallback | None = None,
        on_session_end: SessionCallback | None = None,
        *,
        owner: str | None = None,
    ) -> str:
        """Track the calling session; call it on every run. Returns Streamlit's session id.

        Idempotent across reruns: the latest run's callbacks replace the earlier
        ones. ``on_session_start`` runs once, inside the session's first call, on
        the calling thread: what it writes to ``st.session_state`` is there for the
        rest of that run (one that raises is logged). ``owner`` defaults to
        ``owner_token()``. Outside a script run (bare ``python app.py``) there is
        no session: nothing is tracked and the result is "". A stopped tracker
        tracks nothing either, nor does a late run of a session that already
        ENDED and whose browser is gone (no second start); both return the id.
        Non-callable callbacks raise ``TypeError`` at once.
        """
        _check_callable("on_session_start", on_session_start)
        _check_callable("on_heartbeat", on_heartbeat)
        _check_callable("on_session_end", on_session_end)
        callbacks = _SessionCallbacks(on_session_start, on_heartbeat, on_session_end)
        context = runtime.current_context()
        if context is None:
            self._report_once(
                "register-outside-run",
                "sessions: register_session() outside a script run has no session to track",
                exc_info=False,
            )
            return ""
        session_id: str = context.session_id
        if owner is None:
            owner = owner_token()
        runtime.set_session_value(context, _OWNER_STATE_KEY, owner)
        with self._lock:
            record = self._records.get(session_id)
            known_context = record is not None and record.context is not None
        callback_context = None if known_context else runtime.callback_context(session_id)
        with self._wake:
            tracked, starting = self._register_locked(
                session_id, owner, callbacks, callback_context
            )
        if starting and on_session_start is not None:
            self._start_in_run(session_id, on_session_start)
        if tracked:
            runtime.arm_release_hook(session_id, self._on_released)
        elif self._stopping:
            self._report_once(
                "register-stopped",
                "sessions: register_session() on a stopped tracker tracks nothing",
                exc_info=False,
            )
        return session_id

    def _register_locked(
        self,
        session_id: str,
        owner: str,
        callbacks: _SessionCallbacks,
        callback_context: ScriptContext | None,
    ) -> tuple[bool, bool]:
        """Record a registration and wake the thread.

        Returns whether there is something to track, and whether this is the
        session's first registration (its on_session_start is then due).
        """
        if self._stopping:
            return False, False  # nothing would ever end the session
        record = self._records.get(session_id)
        created = record is None
        if record is None:
            handle = runtime.find_active(session_id)
            if handle is None and self._listing and session_id in self._ended:
                return False, False  # a late run of an ended session, its browser gone
            record = self._records[session_id] = _Record(session_id, time.time())
            record.context = callback_context
            if handle is not None:
                self._attach_locked(record, handle)
                self._keys[session_id] = runtime.handle_key(handle)
        if record.context is None:
            record.context = callback_context
        record.callbacks = callbacks
        if callbacks.on_heartbeat is None:
            self._beat_callbacks.pop(session_id, None)
        else:
            self._beat_callbacks[session_id] = record
        record.registered = True
        self._set_owner_locked(record, owner, self._pending)
        if not self._listing and record.state is _DISCONNECTED:
            # Without a session list, a script run is the only sign of a resume.
            self._resume_locked(record, time.time(), self._pending)
        starting = not record.start_called
        if starting:
            record.start_called = True
            if created:  # a session first seen by a tick was already announced
                self._pending.append(_Event("start", self._info_locked(record), None, None))
        self._signalled = True
        self._wake.notify()
        return True, starting

    def _start_in_run(self, session_id: str, on_session_start: SessionCallback) -> None:
        """The session's own on_session_start, in the registering script run: what it
        writes to ``st.session_state`` is there for the rest of that run."""
        try:
            on_session_start()
        except BaseException:
            self._callback_failed(
                ("session", session_id), f"session {session_id}'s on_session_start callback"
            )

    def add_listener(
        self,
        on_start: SessionListener | None = None,
        on_heartbeat: SessionListener | None = None,
        on_end: SessionListener | None = None,
        *,
        on_disconnect: SessionListener | None = None,
        on_resume: SessionListener | None = None,
        on_owner_change: SessionListener | None = None,
    ) -> Callable[[], None]:
        """Hear about every session, registered or not; returns a function that removes it.

        Each function is called on the tracker thread with the session's
        ``SessionInfo``. Keep them short: the thread serves every session.
        ``on_owner_change`` hears a session re-register under another owner, with
        the record as it was: ``info.owner`` is the owner it left. Once remove()
        returned, none of the functions is called again.
        """
        given: dict[EventKind, SessionListener | None] = {
            "start": on_start,
            "heartbeat": on_heartbeat,
            "disconnect": on_disconnect,
            "resume": on_resume,
            "end": on_end,
            "owner_change": on_owner_change,
        }
        for kind, fn in given.items():
            _check_callable(f"on_{kind}", fn)
        listener = _Listener({kind: fn for kind, fn in given.items() if fn is not None})
        with self._lock:
            self._listeners = (*self._listeners, listener)
            self._by_kind = _index_listeners(self._listeners)
            self._beat_listeners = "heartbeat" in self._by_kind

        def remove() -> None:
            with self._lock:
                listener.removed = True
                self._listeners = tuple(each for each in self._listeners if each is not listener)
                self._by_kind = _index_listeners(self._listeners)
                self._beat_listeners = "heartbeat" in self._by_kind
                self._reported.discard(("listener", id(listener)))

        return remove

    def live_sessions(self) -> list[SessionInfo]:
        """Every session that has not ENDED (CONNECTED or DISCONNECTED), oldest first."""
        with self._lock:
            return [self._info_locked(record) for record in self._records.values()]

    def get_session(self, session_id: str) -> SessionInfo | None:
        with self._lock:
            record = self._records.get(session_id)
            return None if record is None else self._info_locked(record)

    def owner_sessions(self, owner: str) -> list[SessionInfo]:
        """The live sessions of one owner (one browser tab, across its reloads)."""
        with self._lock:
            ids = self._owners.get(owner, ())
            return [self._info_locked(self._records[session_id]) for session_id in ids]

    def live_session_count(self) -> int:
        with self._lock:
            return len(self._records)

    def stats(self) -> TrackerStats:
        with self._lock:
            return TrackerStats(
                sessions=len(self._records),
                passes=self._passes,
                cpu_s=self._cpu_s,
                ticks=self._ticks,
                tick_cpu_s=self._tick_cpu_s,
                max_tick_cpu_s=self._max_tick_cpu_s,
                last_tick_sessions=self._last_tick_sessions,
                callback_errors=self._callback_errors,
            )

    # -- stopping -----------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (no more callbacks) and wait up to ``timeout`` s for it.

        Callable from a callback: the rest of the batch being emitted is dropped.
        """
        with self._wake:
            self._stopping = True
            # Never delivered now: keep nothing for them.
            self._pending = []
            self._released = {}
            self._wake.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopping

    # -- the thread -----------------------------------------------------------------------

    def _on_released(self, session_id: str, released_at: float) -> None:
        """The session's end hook fired (any thread): it lost its browser, maybe briefly."""
        with self._wake:
            if self._stopping:
                return
            earlier = self._released.get(session_id)
            self._released[session_id] = released_at if earlier is None else earlier
            self._signalled = True
            self._wake.notify()

    def _run(self) -> None:
        interval = self.heartbeat_interval_s
        next_beat = time.monotonic()
        while True:
            with self._wake:
                while not self._stopping and not self._signalled:
                    timeout = min(next_beat, self._next_deadline) - time.monotonic()
                    if timeout <= 0:
                        break
                    # Condition.wait overflows past TIMEOUT_MAX (a huge grace_s, say).
                    self._wake.wait(min(timeout, threading.TIMEOUT_MAX))
                if self._stopping:
                    return
                self._signalled = False
            now = time.monotonic()
            beat = now >= next_beat
            if beat:
                next_beat += interval
                if next_beat <= now:
                    next_beat = now + interval
            started = time.thread_time()
            events: list[_Event] = []
            try:
                self._scan(beat, events)
            except Exception:
                self._report_once("pass", "sessions: a tracker pass failed; tracking goes on")
            # What the pass gathered before it failed is delivered all the same.
            self._emit(events)
            used = time.thread_time() - started
            with self._lock:
                self._passes += 1
                self._cpu_s += used
                if beat:
                    self._ticks += 1
                    self._tick_cpu_s += used
                    self._max_tick_cpu_s = max(self._max_tick_cpu_s, used)

    def _scan(self, beat: bool, events: list[_Event]) -> None:
        """One pass: gather the events due into ``events`` (pending ones first)."""
        to_visit: list[_Visit] = []
        with self._lock:
            # Listed under the lock: a session that registers after this list was
            # taken cannot be mistaken for one that left.
            active = runtime.active_sessions()
            now = time.time()
            mono = time.monotonic()
            events.extend(self._pending)
            self._pending = []
            released, self._released = self._released, {}
            self._listing = active is not None
            if active is None:
                self._apply_releases_locked(released, now, mono, events)
            else:
                self._apply_listing_locked(active, released, now, mono, events, to_visit)
            if beat:
                self._beat_locked(now, events)
            self._end_expired_locked(mono, events)
            self._forget_ended_locked(mono)
        if to_visit:
            self._visit_sessions(to_visit, events)

    def _visit_sessions(self, sessions: list[_Visit], events: list[_Event]) -> None:
        """Arm end hooks, and take back the owners of sessions that registered before the
        tracker ended them (Streamlit resumed them; an idle page does not run again)."""
        found: list[tuple[_Record, str]] = []
        for each in sessions:
            runtime.arm_release_hook(each.record.session_id, self._on_released, each.context)
            if each.new:
                owner = runtime.session_value(each.context, _OWNER_STATE_KEY)
                if isinstance(owner, str):
                    found.append((each.record, owner))
        with self._lock:
            # A session that left while its hook was being armed is found by the next pass.
            self._signalled = True
            for record, owner in found:
                if self._records.get(record.session_id) is record and record.owner is None:
                    self._set_owner_locked(record, owner, events)

    def _apply_listing_locked(
        self,
        active: ActiveSessions,
        released: dict[str, float],
        now: float,
        mono: float,
        events: list[_Event],
        to_visit: list[_Visit],
    ) -> None:
        """Diff the runtime's sessions against the records: C-level dict and set work only,
        unless a session started, resumed or left since the last pass."""
        records = self._records
        current = active.keys
        known = self._keys
        if current != known:
            for session_id, _key in current.items() - known.items():
                handle = active.handles[session_id]
                record = records.get(session_id)
                new = record is None
                if record is None:
                    record = records[session_id] = _Record(session_id, now)
                    self._attach_locked(record, handle)
                    events.append(_Event("start", self._info_locked(record), None, None))
                    record.announced = True
                else:
                    if record.state is _CONNECTED and known.get(session_id):
                        # Resumed onto a new connection between two passes: a blip.
                        self._disconnect_locked(record, released.get(session_id, mono), now, mono)
                        events.append(_Event("disconnect", self._info_locked(record), None, None))
                    self._attach_locked(record, handle)
                    if record.state is _DISCONNECTED:
                        self._resume_locked(record, now, events)
                to_visit.append(_Visit(record, record.context, new))
            self._keys = current
        for session_id in records.keys() - current.keys():
            record = records[session_id]
            if record.state is _CONNECTED:
                self._disconnect_locked(record, released.get(session_id, mono), now, mono)
                events.append(_Event("disconnect", self._info_locked(record), None, None))
        for session_id in released:
            key = current.get(session_id)
            if key is not None and key == known.get(session_id) and session_id in records:
                # Released, yet on the same connection: caches were cleared, not the tab closed.
                record = records[session_id]
                to_visit.append(_Visit(record, record.context, False))

    def _apply_releases_locked(
        self, released: dict[str, float], now: float, mono: float, events: list[_Event]
    ) -> None:
        for session_id, released_at in released.items():
            record = self._records.get(session_id)
            if record is not None and record.state is _CONNECTED:
                self._disconnect_locked(record, released_at, now, mono)
                events.append(_Event("disconnect", self._info_locked(record), None, None))

    def _beat_locked(self, now: float, events: list[_Event]) -> None:
        """A heartbeat for every connected session; work per session only for those
        that someone listens to."""
        self._last_beat = now
        self._last_tick_sessions = len(self._records)
        beat_listeners = self._beat_listeners
        beating = self._records if beat_listeners else self._beat_callbacks
        for record in beating.values():
            if record.state is _CONNECTED:
                events.append(
                    _Event(
                        "heartbeat",
                        self._info_locked(record),
                        record.callbacks.on_heartbeat,
                        record.context,
                        beat_listeners,
                    )
                )

    def _disconnect_locked(self, record: _Record, at: float, now: float, mono: float) -> None:
        """CONNECTED -> DISCONNECTED at monotonic time ``at``; the grace window starts then."""
        record.last_heartbeat = self._last_heartbeat_locked(record)
        record.state = _DISCONNECTED
        record.disconnected_at = now - max(0.0, mono - at)
        record.deadline = at + self.grace_s

    def _resume_locked(self, record: _Record, now: float, events: list[_Event]) -> None:
        record.state = _CONNECTED
        record.disconnected_at = None
        record.deadline = math.inf
        record.beat_from = now
        events.append(_Event("resume", self._info_locked(record), None, None))

    def _end_expired_locked(self, mono: float, events: list[_Event]) -> None:
        next_deadline = math.inf
        ended: list[_Record] = []
        for record in self._records.values():
            if record.deadline <= mono:
                ended.append(record)
            elif record.deadline < next_deadline:
                next_deadline = record.deadline
        self._next_deadline = next_deadline
        for record in ended:
            session_id = record.session_id
            del self._records[session_id]
            self._keys.pop(session_id, None)
            self._beat_callbacks.pop(session_id, None)
            self._index_owner_locked(session_id, record.owner, None)
            record.state = _ENDED
            info = self._info_locked(record)
            record.handle = None
            events.append(_Event("end", info, record.callbacks.on_end, record.context))
            self._ended.pop(session_id, None)  # re-inserted last, to keep the oldest first
            self._ended[session_id] = mono + self._ended_kept_s

    def _forget_ended_locked(self, mono: float) -> None:
        """Drop the ended sessions that Streamlit no longer keeps (oldest first: cheap)."""
        ended = self._ended
        while ended:
            session_id, until = next(iter(ended.items()))
            if until > mono:
                return
            del ended[session_id]

    def _info_locked(self, record: _Record) -> SessionInfo:
        """The record as a SessionInfo; run counts and page are read from the runtime now."""
        handle = record.handle
        if handle is not None:
            runs = runtime.script_runs(handle)
            if runs is not None:
                record.script_runs = runs
            page = runtime.page_hash(handle)
            if page is not None and page != record.page_hash:
                record.page_hash = page
                record.page = self._page_name_locked(handle, page)
        return SessionInfo(
            record.session_id,
            record.owner,
            record.state,
            record.started_at,
            self._last_heartbeat_locked(record),
            record.disconnected_at,
            record.user_agent,
            record.client_ip,
            record.page,
            record.script_runs,
            record.registered,
        )

    def _last_heartbeat_locked(self, record: _Record) -> float | None:
        last_beat = self._last_beat
        if record.state is _CONNECTED and last_beat is not None and last_beat >= record.beat_from:
            return last_beat
        return record.last_heartbeat

    def _attach_locked(self, record: _Record, handle: Handle) -> None:
        """Follow the session's (new) connection: its client and a context for callbacks."""
        record.handle = handle
        details = runtime.client_details(handle)
        record.user_agent = details.user_agent
        record.client_ip = details.client_ip
        if record.context is None:
            record.context = runtime.detached_context(handle)

    def _set_owner_locked(self, record: _Record, owner: str, events: list[_Event]) -> None:
        old = record.owner
        if old == owner:
            return
        if old is not None or record.announced:
            # Listeners get the record under the owner it leaves (the reaper keeps it for the
            # end); a session a pass announced before it registered leaves None.
            events.append(_Event("owner_change", self._info_locked(record), None, None))
        self._index_owner_locked(record.session_id, old, owner)
        record.owner = owner

    def _index_owner_locked(self, session_id: str, old: str | None, new: str | None) -> None:
        if old is not None:
            ids = self._owners.get(old)
            if ids is not None:
                ids.discard(session_id)
                if not ids:
                    del self._owners[old]
        if new is not None:
            self._owners.setdefault(new, set()).add(session_id)

    def _page_name_locked(self, handle: Handle, page: str) -> str | None:
        name = self._page_names.get(page)
        if name is None:
            name = runtime.page_name(handle, page)
            if name is not None:
                self._page_names[page] = name
        return name

    # -- calling out ------------------------------------------------------------------------

    def _emit(self, events: list[_Event]) -> None:
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

    def _call_session(self, event: _Event, callback: SessionCallback) -> None:
        try:
            runtime.call_in_session(event.context, callback)
        except BaseException:
            self._callback_failed(
                ("session", event.info.session_id),
                f"session {event.info.session_id}'s on_{event.kind} callback",
            )

    def _call_listeners(
        self, event: _Event, listeners: tuple[tuple[SessionListener, _Listener], ...]
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
