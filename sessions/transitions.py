"""How the tracker's records change: the diff against the runtime, and the states.

CONNECTED -> DISCONNECTED starts the grace window; a resume inside it is CONNECTED
again; past it the session ENDS. Each change appends the event it owes to the pass's
list. All of it runs with the tracker's lock held, and calls nothing outside it.
"""

from __future__ import annotations

import math
from typing import Final

from sessions import runtime
from sessions.info import SessionInfo, SessionState
from sessions.records import Event, Record, Visit
from sessions.runtime import ActiveSessions, Handle

_CONNECTED: Final = SessionState.CONNECTED
_DISCONNECTED: Final = SessionState.DISCONNECTED
_ENDED: Final = SessionState.ENDED


class SessionTransitions:
    """State changes of the tracker's records, under its lock; the attributes are its."""

    grace_s: float
    _records: dict[str, Record]
    _keys: dict[str, int]
    _beat_callbacks: dict[str, Record]
    _last_beat: float | None
    _owners: dict[str, set[str]]
    _beat_listeners: bool
    _next_deadline: float
    _ended: dict[str, float]
    _ended_kept_s: float
    _page_names: dict[str, str]
    _last_tick_sessions: int

    def _apply_listing_locked(
        self,
        active: ActiveSessions,
        released: dict[str, float],
        now: float,
        mono: float,
        events: list[Event],
        to_visit: list[Visit],
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
                    record = records[session_id] = Record(session_id, now)
                    self._attach_locked(record, handle)
                    events.append(Event("start", self._info_locked(record), None, None))
                    record.announced = True
                else:
                    if record.state is _CONNECTED and known.get(session_id):
                        # Resumed onto a new connection between two passes: a blip.
                        self._disconnect_locked(record, released.get(session_id, mono), now, mono)
                        events.append(Event("disconnect", self._info_locked(record), None, None))
                    self._attach_locked(record, handle)
                    if record.state is _DISCONNECTED:
                        self._resume_locked(record, now, events)
                to_visit.append(Visit(record, record.context, new))
            self._keys = current
        for session_id in records.keys() - current.keys():
            record = records[session_id]
            if record.state is _CONNECTED:
                self._disconnect_locked(record, released.get(session_id, mono), now, mono)
                events.append(Event("disconnect", self._info_locked(record), None, None))
        for session_id in released:
            key = current.get(session_id)
            if key is not None and key == known.get(session_id) and session_id in records:
                # Released, yet on the same connection: caches were cleared, not the tab closed.
                record = records[session_id]
                to_visit.append(Visit(record, record.context, False))

    def _apply_releases_locked(
        self, released: dict[str, float], now: float, mono: float, events: list[Event]
    ) -> None:
        for session_id, released_at in released.items():
            record = self._records.get(session_id)
            if record is not None and record.state is _CONNECTED:
                self._disconnect_locked(record, released_at, now, mono)
                events.append(Event("disconnect", self._info_locked(record), None, None))

    def _beat_locked(self, now: float, events: list[Event]) -> None:
        """A heartbeat for every connected session; work per session only for those
        that someone listens to."""
        self._last_beat = now
        self._last_tick_sessions = len(self._records)
        beat_listeners = self._beat_listeners
        beating = self._records if beat_listeners else self._beat_callbacks
        for record in beating.values():
            if record.state is _CONNECTED:
                events.append(
                    Event(
                        "heartbeat",
                        self._info_locked(record),
                        record.callbacks.on_heartbeat,
                        record.context,
                        beat_listeners,
                    )
                )

    def _disconnect_locked(self, record: Record, at: float, now: float, mono: float) -> None:
        """CONNECTED -> DISCONNECTED at monotonic time ``at``; the grace window starts then."""
        record.last_heartbeat = self._last_heartbeat_locked(record)
        record.state = _DISCONNECTED
        record.disconnected_at = now - max(0.0, mono - at)
        record.deadline = at + self.grace_s

    def _resume_locked(self, record: Record, now: float, events: list[Event]) -> None:
        record.state = _CONNECTED
        record.disconnected_at = None
        record.deadline = math.inf
        record.beat_from = now
        events.append(Event("resume", self._info_locked(record), None, None))

    def _end_expired_locked(self, mono: float, events: list[Event]) -> None:
        next_deadline = math.inf
        ended: list[Record] = []
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
            events.append(Event("end", info, record.callbacks.on_end, record.context))
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

    def _info_locked(self, record: Record) -> SessionInfo:
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

    def _last_heartbeat_locked(self, record: Record) -> float | None:
        last_beat = self._last_beat
        if record.state is _CONNECTED and last_beat is not None and last_beat >= record.beat_from:
            return last_beat
        return record.last_heartbeat

    def _attach_locked(self, record: Record, handle: Handle) -> None:
        """Follow the session's (new) connection: its client and a context for callbacks."""
        record.handle = handle
        details = runtime.client_details(handle)
        record.user_agent = details.user_agent
        record.client_ip = details.client_ip
        if record.context is None:
            record.context = runtime.detached_context(handle)

    def _set_owner_locked(self, record: Record, owner: str, events: list[Event]) -> None:
        old = record.owner
        if old == owner:
            return
        if old is not None or record.announced:
            # Listeners get the record under the owner it leaves (the reaper keeps it for the
            # end); a session a pass announced before it registered leaves None.
            events.append(Event("owner_change", self._info_locked(record), None, None))
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
