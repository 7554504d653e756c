"""One process's link to the store: write-behind, heartbeat, cross-process cancel, reads.

The app (and the API process) make one ``DurableStore`` and attach their task manager
and session tracker to it: listeners hand every snapshot to the writer, so neither
``taskmgr`` nor ``sessions`` knows there is a database. Reads for pages go through
small caches and are skipped while the database is away: pages then show what this
process has in memory.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from cachetools import LRUCache, TTLCache

from store.codec import decode_value, encode_value
from store.heartbeat import HeartbeatHealth, ProcessHeartbeat
from store.notify import CancelWakeup
from store.protocol import TaskStore
from store.records import ProcessRecord, StoredSession, StoredTask, task_key
from store.settings import StoreSettings
from store.sql import SqlStore, cancel_channel
from store.writer import WriteBehind, WriterHealth
from taskmgr import TaskSnapshot

if TYPE_CHECKING:  # sessions imports Streamlit: not needed to run migrations
    from sessions import SessionInfo, SessionListener


logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Seconds a page's read of the store is reused (pages poll every second or two).
READ_TTL_S = 1.0


class Manager(Protocol):
    """What the store needs of a task manager (``taskmgr.AsyncTaskManager`` has it)."""

    def add_listener(self, listener: Callable[[TaskSnapshot], None]) -> Callable[[], None]: ...

    def cancel(self, task_id: Hashable, *, owner: Hashable = None) -> bool: ...

    def list_all_tasks(self) -> list[TaskSnapshot]: ...


class Tracker(Protocol):
    """What the store needs of a session tracker (``sessions.SessionCallbackManager``)."""

    def add_listener(
        self,
        on_start: SessionListener | None = None,
        on_heartbeat: SessionListener | None = None,
        on_end: SessionListener | None = None,
        *,
        on_disconnect: SessionListener | None = None,
        on_resume: SessionListener | None = None,
        on_owner_change: SessionListener | None = None,
    ) -> Callable[[], None]: ...

    def live_sessions(self) -> list[SessionInfo]: ...

    def get_session(self, session_id: str) -> SessionInfo | None: ...


@dataclass(frozen=True)
class StoreHealth:
    """What the Admin page says about the database."""

    url: str
    ok: bool
    writer: WriterHealth
    heartbeat: HeartbeatHealth

    @property
    def problem(self) -> str | None:
        if self.ok:
            return None
        return self.heartbeat.last_error or self.writer.last_error or "not connected yet"


class DurableStore:
    def __init__(
        self,
        settings: StoreSettings,
        *,
        kind: str = "streamlit",
        backend: TaskStore | None = None,
    ) -> None:
        self.settings = settings
        sql = SqlStore(settings.url, max_value_bytes=settings.max_value_bytes)
        self.backend: TaskStore = backend or sql
        now = time.time()
        self.process = ProcessRecord(
            id=uuid.uuid4().hex[:16],
            host=socket.gethostname(),
            pid=os.getpid(),
            kind=kind,
            started_at=now,
            last_heartbeat=now,
        )
        self.writer = WriteBehind(self.backend, self.process.id, max_held=settings.max_held)
        self.heartbeat = ProcessHeartbeat(
            self.backend,
            self.process,
            CancelWakeup(sql.engine.url, cancel_channel(self.process.id)),
            self._on_cancel_request,
            interval_s=settings.heartbeat_s,
            dead_after_s=settings.dead_after_s,
            retention_s=settings.retention_s,
            on_back=self._republish,
        )
        self._lock = threading.Lock()
        self._managers: list[Manager] = []
        #: What ``attach_*`` returned and nobody called yet: ``close`` calls them.
        self._detachers: list[Callable[[], None]] = []
        self._reads: TTLCache[Any, Any] = TTLCache(maxsize=4096, ttl=READ_TTL_S)
        self._values: LRUCache[tuple[str, str], Any] = LRUCache(maxsize=10_000)
        self._closed = False

    @property
    def url(self) -> str:
        return self.backend.url

    # -- life -----------------------------------------------------------------------------

    def start(self) -> DurableStore:
        """Beat in the background from now on; stop cleanly when the interpreter exits."""
        self.heartbeat.start()
        atexit.register(self.close)
        return self

    def open(self) -> None:
        """Connect, migrate and beat once, now (``StoreUnavailable``, ``SchemaTooNew``)."""
        self.heartbeat.beat()

    def close(self) -> None:
        """Write what is held, mark this process stopped (its unfinished tasks are
        interrupted: nobody will finish them), and let the database go."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            detachers = list(self._detachers)
        atexit.unregister(self.close)  # nothing left to do at exit; let it be collected
        # First: what a manager or tracker hands in after this would be held for nobody.
        # A feed's last changes are pulled as it detaches, and written by the stop below.
        for detach in detachers:
            detach()
        self.heartbeat.stop()
        if not self.writer.stop(timeout=5.0):
            logger.error(
                "store: the database is away; %d held record(s) are lost", self.writer.health().held
            )
        try:
            self.backend.stop_process(self.process.id, time.time())
        except Exception as exc:  # away: others will find this process dead instead
            logger.warning("store: could not mark this process stopped: %s", exc)
        self.backend.close()

    def health(self) -> StoreHealth:
        writer = self.writer.health()
        beat = self.heartbeat.health()
        return StoreHealth(self.url, writer.ok and beat.ok, writer, beat)

    @property
    def available(self) -> bool:
        beat = self.heartbeat.health()
        return beat.ok and self.writer.health().ok

    # -- wiring ---------------------------------------------------------------------------

    def attach_manager(self, manager: Manager) -> Callable[[], None]:
        """Persist every snapshot of ``manager``; cancels asked from elsewhere reach it."""
        change_feed = getattr(manager, "change_feed", None)
        if change_feed is not None:  # pulled, coalesced at the source: see taskmgr/change_feed.py
            remove_listener = self.writer.add_feed(change_feed)
        else:  # any other manager: every snapshot handed in (the feed starts with them all)
            remove_listener = manager.add_listener(self.writer.task)
            for snapshot in manager.list_all_tasks():
                self.writer.task(snapshot)
        with self._lock:
            self._managers.append(manager)

        def detach() -> None:
            remove_listener()
            with self._lock:
                if manager in self._managers:
                    self._managers.remove(manager)

        return self._kept_until_close(detach)

    def attach_tracker(self, tracker: Tracker) -> Callable[[], None]:
        """Keep every session's record, and when it ended (the session history)."""

        def changed(info: SessionInfo) -> None:
            self.writer.session(info)

        def ended(info: SessionInfo) -> None:
            self.writer.session(info, ended_at=time.time())

        def owner_changed(info: SessionInfo) -> None:
            # The event carries the owner left behind; the history wants the one it has now.
            changed(tracker.get_session(info.session_id) or info)

        remove = tracker.add_listener(
            on_start=changed,
            on_disconnect=changed,
            on_resume=changed,
            on_owner_change=owner_changed,
            on_end=ended,
        )
        # The tracker's thread runs from its creation: a server's first session may have
        # been announced before this listener was there. Listen first, then catch up.
        for info in tracker.live_sessions():
            changed(info)
        return self._kept_until_close(remove)

    def _kept_until_close(self, detach: Callable[[], None]) -> Callable[[], None]:
        """``detach``, run once: by its caller, or else by ``close``."""

        def once() -> None:
            with self._lock:
                if once not in self._detachers:
                    return
                self._detachers.remove(once)
            detach()

        with self._lock:
            self._detachers.append(once)
        return once

    def record_params(
        self, owner: Hashable, task_id: Hashable, job: str, params: Mapping[str, Any]
    ) -> None:
        """The parameters a task was started with, so that it can be run again."""
        self.writer.params(owner, task_id, job, params)

    # -- cancel ---------------------------------------------------------------------------

    def cancel(self, owner: str, task_id: str) -> bool:
        """Cancel wherever the task runs: here at once, elsewhere through the store."""
        with self._lock:
            managers = list(self._managers)
        if any(manager.cancel(task_id, owner=owner) for manager in managers):
            return True
        if not self.available:
            return False
        process_id = self.backend.request_cancel(owner, task_id, time.time())
        self._reads.clear()
        return process_id is not None

    def _on_cancel_request(self, owner: str, task_id: str) -> None:
        with self._lock:
            managers = list(self._managers)
        for manager in managers:
            if manager.cancel(task_id, owner=owner):
                logger.info("store: cancelled task %s on request from another process", task_id)

    def _republish(self) -> None:
        """The database is back: write every live task again (another process may have
        taken this one for dead meanwhile and marked its tasks interrupted)."""
        with self._lock:
            managers = list(self._managers)
        for manager in managers:
            for snapshot in manager.list_all_tasks():
                self.writer.task(snapshot)

    # -- reads (cached; empty while the database is away) -----------------------------------

    def tasks(self, owner: str | None = None) -> list[StoredTask]:
        """That owner's stored tasks (everyone's for None), newest first."""
        return self._cached(("tasks", owner), lambda: self.backend.tasks(owner), [])

    def task(self, owner: str, task_id: str) -> StoredTask | None:
        key = task_key(owner, task_id)
        return self._cached(("task", key), lambda: self.backend.task(*key), None)

    def sessions(self) -> list[StoredSession]:
        return self._cached(("sessions",), self.backend.sessions, [])

    def processes(self) -> list[ProcessRecord]:
        return self._cached(("processes",), self.backend.processes, [])

    def _cached(self, key: Any, read: Callable[[], T], default: T) -> T:
        try:
            cached: T = self._reads[key]
            return cached
        except KeyError:
            pass
        if not self.available:
            return default
        try:
            value = read()
        except Exception as exc:  # lost meanwhile: the heartbeat will notice and say so
            logger.warning("store: read failed: %s", exc)
            return default
        self._reads[key] = value
        return value

    # -- per-owner values -------------------------------------------------------------------

    def read_value(self, owner: str, key: str, default: Any) -> Any:
        cache_key = (owner, key)
        try:
            return self._values[cache_key]
        except KeyError:
            pass
        if not self.available:
            return default
        try:
            found = self.backend.get_value(owner, key)
        except Exception as exc:
            logger.warning("store: reading %r failed: %s", key, exc)
            return default
        value = default if found is None else decode_value(*found)
        self._values[cache_key] = value
        return value

    def write_value(self, owner: str, key: str, value: Any) -> None:
        """Keep ``value`` (``ValueTooLarge`` / ``TypeError`` when it cannot be); written
        behind, visible to this process's reads at once."""
        kind, raw = encode_value(value, self.settings.max_value_bytes, f"the value of {key!r}")
        self._values[(owner, key)] = value
        self.writer.value(owner, key, kind, raw)
