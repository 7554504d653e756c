"""Write-behind: records are handed to a queue and written by one thread, in batches.

Whoever hands a record in (a task's worker thread through a manager listener, a script
run, the tracker thread) only takes a lock and sets a dict entry: nobody waits on the
database. Records are coalesced while they wait: a task that reported progress a
hundred times since the last write is written once, with its latest snapshot.

When the database is away, the batch is kept and retried with a growing delay (up to
``retry_max_s``), newer records merging into it; up to ``max_held`` records (distinct
tasks, sessions and values) are held, and each one's latest state is written when the
database is back. Past that bound, records of *new* keys are dropped and counted
(``WriterHealth.dropped``); held ones keep being updated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from store.errors import describe
from store.protocol import TaskStore
from store.records import ParamsWrite, SessionWrite, ValueWrite, WriteBatch
from taskmgr import TaskSnapshot

if TYPE_CHECKING:  # sessions imports Streamlit: not needed to run migrations
    from sessions import SessionInfo


logger = logging.getLogger(__name__)

#: Distinct records held while the database is away (documented in docs/store.md).
DEFAULT_MAX_HELD = 100_000


@dataclass(frozen=True)
class WriterHealth:
    """Whether writes reach the database, and what waits meanwhile."""

    ok: bool
    #: When writes started failing (None while they succeed).
    failing_since: float | None
    last_error: str | None
    held: int
    dropped: int
    written: int
    batches: int


class WriteBehind:
    """One writer thread over a ``TaskStore``; every ``put`` returns at once."""

    def __init__(
        self,
        store: TaskStore,
        process_id: str,
        *,
        max_held: int = DEFAULT_MAX_HELD,
        batch_delay_s: float = 0.05,
        retry_max_s: float = 5.0,
    ) -> None:
        self.store = store
        self.process_id = process_id
        self.max_held = max_held
        self.batch_delay_s = batch_delay_s
        self.retry_max_s = retry_max_s
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending = WriteBatch()
        self._in_flight = 0
        self._writing = False
        self._stopping = False
        #: Set by flush() and stop(): write now, without the batching delay or retry wait.
        self._hurry = False
        self._failing_since: float | None = None
        self._last_error: str | None = None
        self._dropped = 0
        self._written = 0
        self._batches = 0
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # -- handing records in (any thread, never blocks on the database) ---------------------

    def task(self, snapshot: TaskSnapshot) -> None:
        """A manager listener: keep the task's newest snapshot for the next batch."""
        key = (snapshot.owner, snapshot.id)
        with self._lock:
            tasks = self._pending.tasks
            old = tasks.get(key)
            if old is None:
                if not self._room_locked():
                    return
            elif snapshot.version < old.version and snapshot.submitted_at <= old.submitted_at:
                return
            if not self._has_pending_locked():
                self._changed.notify_all()  # wake the writer from idle; later puts need not
            tasks[key] = snapshot

    def params(
        self, owner: Hashable, task_id: Hashable, job: str, params: Mapping[str, Any]
    ) -> None:
        """The parameters a task was submitted with (call after ``submit`` returned)."""
        self._put("params", (owner, task_id), ParamsWrite(job, dict(params)))

    def session(self, info: SessionInfo, ended_at: float | None = None) -> None:
        self._put("sessions", info.session_id, SessionWrite(info, ended_at))

    def value(self, owner: str, key: str, kind: str, raw: bytes) -> None:
        self._put("values", (owner, key), ValueWrite(kind, raw, time.time()))

    def _put(self, kind: str, key: Any, record: Any) -> None:
        with self._lock:
            records: dict[Any, Any] = getattr(self._pending, kind)
            if key not in records and not self._room_locked():
                return
            if not self._has_pending_locked():
                self._changed.notify_all()
            records[key] = record

    def _has_pending_locked(self) -> bool:
        pending = self._pending
        return bool(pending.tasks or pending.params or pending.sessions or pending.values)

    def _room_locked(self) -> bool:
        if len(self._pending) + self._in_flight < self.max_held:
            return True
        self._dropped += 1
        if self._dropped == 1 or self._dropped % 10_000 == 0:
            logger.error(
                "store: %d records held while the database is away (the bound); "
                "%d new one(s) dropped so far",
                self.max_held,
                self._dropped,
            )
        return False

    # -- state ----------------------------------------------------------------------------

    def health(self) -> WriterHealth:
        with self._lock:
            return WriterHealth(
                ok=self._failing_since is None,
                failing_since=self._failing_since,
                last_error=self._last_error,
                held=len(self._pending) + self._in_flight,
                dropped=self._dropped,
                written=self._written,
                batches=self._batches,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything handed in so far is written; False at the deadline."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._hurry = True
            self._changed.notify_all()
            while self._has_pending_locked() or self._writing:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def stop(self, timeout: float = 10.0) -> bool:
        """Write what is held (for up to ``timeout`` seconds), then end the thread."""
        flushed = self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
        self._thread.join(timeout)
        return flushed

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        retry_s = 0.0
        while True:
            with self._lock:
                while not self._has_pending_locked() and not self._stopping:
                    self._hurry = False
                    self._changed.wait()
                if self._stopping:
                    return
                # After a failure, wait before trying again; otherwise let a burst of
                # records coalesce into one batch.
                self._wait_unhurried_locked(retry_s or self.batch_delay_s)
                if self._stopping:
                    return
                self._hurry = False
                batch, self._pending = self._pending, WriteBatch()
                self._in_flight = len(batch)
                self._writing = True
            error = self._write(batch)
            with self._lock:
                self._writing = False
                self._in_flight = 0
                if error is None:
                    if self._failing_since is not None:
                        logger.warning("store: the database is back; held records written")
                    self._failing_since = None
                    self._last_error = None
                    self._written += len(batch)
                    self._batches += 1
                    retry_s = 0.0
                else:
                    batch.absorb(self._pending)
                    self._pending = batch
                    if self._failing_since is None:
                        self._failing_since = time.time()
                        logger.error("store: writes fail, holding them and retrying: %s", error)
                    self._last_error = error
                    retry_s = min(self.retry_max_s, max(0.25, retry_s * 2))
                self._changed.notify_all()

    def _wait_unhurried_locked(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._hurry and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._changed.wait(remaining)

    def _write(self, batch: WriteBatch) -> str | None:
        try:
            self.store.write(batch, self.process_id)
        except Exception as exc:  # any database error: keep the batch, retry later
            return describe(exc)
        return None
