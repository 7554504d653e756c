"""Write-behind: records are handed to a queue and written by one thread, in batches.

Task snapshots are pulled from the manager's change feed (``add_feed``): one per changed
task, built when the writer takes them. Whoever hands a record in (a manager listener
when there is no feed, a script run, the tracker thread) appends it to a deque (atomic,
no lock: a lock here would make the pool's workers queue on each other) and, if the
writer sleeps, wakes it: nobody waits on the database.
The writer coalesces what it takes: a task that reported
progress a hundred times since the last write is written once, with its latest snapshot.
It writes when a burst is over (``batch_delay_s`` without a hand-in), or at the latest
``max_delay_s`` after the burst began: writing during a burst would take the
interpreter lock from the tasks that make it.

When the database is away, the batch is kept and retried with a growing delay (up to
``retry_max_s``); meanwhile the writer keeps taking the queue in every
``_DRAIN_WHILE_AWAY_S`` and merging it into the batch, so memory grows with the number
of distinct records, not of reports. Up to ``max_held`` records (distinct tasks,
sessions and values) are held, and each one's latest state is written when the
database is back. Past that bound, records of *new* keys are dropped and counted
(``WriterHealth.dropped``); held ones keep being updated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from store.errors import describe
from store.protocol import TaskStore
from store.records import ParamsWrite, SessionWrite, ValueWrite, WriteBatch
from taskmgr import TaskSnapshot
from taskmgr.change_feed import TAKE_LIMIT

if TYPE_CHECKING:  # sessions imports Streamlit: not needed to run migrations
    from sessions import SessionInfo

logger = logging.getLogger(__name__)

#: Distinct records held while the database is away (documented in docs/store.md).
DEFAULT_MAX_HELD = 100_000
#: While the database is away, how often the queue is folded into the held batch.
_DRAIN_WHILE_AWAY_S = 0.1
#: A queue this long is folded in at once, without waiting for the batching delay: a
#: burst of hand-ins then never piles up more than this many snapshots. Small, because
#: every snapshot held is one more object for the garbage collector to trace, and
#: folding frees the older snapshots of each task at once.
_EARLY_DRAIN = 1_000
#: A snapshot's order among its task's snapshots, and the task it belongs to.
_BY_VERSION = attrgetter("version")
_TASK_KEY = attrgetter("owner", "id")


class Feed(Protocol):
    """Task snapshots to pull (``taskmgr.ChangeFeed``): each changed task's latest."""

    def take(self, limit: int = ...) -> list[TaskSnapshot]: ...

    def pending(self) -> int: ...

    def close(self) -> None: ...


class _Put(NamedTuple):
    """A record other than a task snapshot: which table, its key, the record."""

    kind: str
    key: Any
    record: Any


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
    """One writer thread over a ``TaskStore``; every hand-in returns at once."""

    def __init__(
        self,
        store: TaskStore,
        process_id: str,
        *,
        max_held: int = DEFAULT_MAX_HELD,
        batch_delay_s: float = 0.2,
        max_delay_s: float = 1.0,
        retry_max_s: float = 5.0,
    ) -> None:
        self.store = store
        self.process_id = process_id
        self.max_held = max_held
        self.batch_delay_s = batch_delay_s
        self.max_delay_s = max_delay_s
        self.retry_max_s = retry_max_s
        #: Task snapshots (the many) and every other record (the few), queued apart so
        #: that folding the snapshots is a tight loop.
        self._inbox: deque[TaskSnapshot] = deque()
        self._puts: deque[_Put] = deque()
        #: Change feeds the writer pulls task snapshots from (``add_feed``).
        self._feeds: tuple[Feed, ...] = ()
        #: Set by the writer just before it sleeps; a hand-in then wakes it.
        self._sleeping = False
        self._wake = threading.Event()
        #: Guards the counters and the batch below, and tells flush() about progress.
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)
        self._pending = WriteBatch()
        self._writing = 0
        self._hurry = False
        self._stopping = False
        self._failing_since: float | None = None
        self._last_error: str | None = None
        self._dropped = 0
        #: Records taken from the queue so far: tells a burst that goes on from a quiet.
        self._folded = 0
        self._written = 0
        self._batches = 0
        self._thread = threading.Thread(target=self._run, name="store-writer", daemon=True)
        self._thread.start()

    # -- handing records in (any thread; never blocks) ------------------------------------

    def task(self, snapshot: TaskSnapshot) -> None:
        """A manager listener: the task's snapshot goes to the next batch."""
        inbox = self._inbox
        inbox.append(snapshot)
        if self._sleeping or len(inbox) == _EARLY_DRAIN:
            self._wake.set()

    def add_feed(self, open_feed: Callable[[threading.Event], Feed]) -> Callable[[], None]:
        """Pull task snapshots from a change feed (``AsyncTaskManager.change_feed``)
        instead of being handed every one: the feed sets the writer's event when changes
        wait. Returns a remover, which takes what is left before closing the feed."""
        feed = open_feed(self._wake)
        with self._lock:
            self._feeds = (*self._feeds, feed)
        self._wake.set()

        def remove() -> None:
            with self._lock:
                if feed not in self._feeds:
                    return
                self._pull_locked(feed)
                self._feeds = tuple(f for f in self._feeds if f is not feed)
            feed.close()
            self._wake.set()

        return remove

    def params(
        self, owner: Hashable, task_id: Hashable, job: str, params: Mapping[str, Any]
    ) -> None:
        """The parameters a task was submitted with (call after ``submit`` returned)."""
        self._hand_in(_Put("params", (owner, task_id), ParamsWrite(job, dict(params))))

    def session(self, info: SessionInfo, ended_at: float | None = None) -> None:
        self._hand_in(_Put("sessions", info.session_id, SessionWrite(info, ended_at)))

    def value(self, owner: str, key: str, kind: str, raw: bytes) -> None:
        self._hand_in(_Put("values", (owner, key), ValueWrite(kind, raw, time.time())))

    def _hand_in(self, item: _Put) -> None:
        self._puts.append(item)
        if self._sleeping:
            self._wake.set()

    # -- state ----------------------------------------------------------------------------

    def health(self) -> WriterHealth:
        with self._lock:
            return WriterHealth(
                ok=self._failing_since is None,
                failing_since=self._failing_since,
                last_error=self._last_error,
                held=len(self._pending)
                + self._writing
                + len(self._inbox)
                + len(self._puts)
                + sum(feed.pending() for feed in self._feeds),
                dropped=self._dropped,
                written=self._written,
                batches=self._batches,
            )

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything handed in so far, now; False if not done by the deadline."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while self._handed_in() or len(self._pending) or self._writing:
                if self._stopping and not self._thread.is_alive():
                    return False
                self._hurry = True
                self._wake.set()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._progress.wait(remaining)
            return True

    def stop(self, timeout: float = 10.0) -> bool:
        """Write what is held (for up to ``timeout`` seconds), then end the thread."""
        flushed = self.flush(timeout)
        with self._lock:
            self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
        with self._lock:  # nobody takes from them now: the managers stop noting changes
            feeds, self._feeds = self._feeds, ()
        for feed in feeds:
            feed.close()
        return flushed

    # -- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        retry_s = 0.0
        while not self._stopping:
            try:
                retry_s = self._pass(retry_s)
            except Exception:
                # Pulling from a feed runs the manager's own bookkeeping on this thread: a
                # bug there must not end persistence in silence. Count it as a failed write.
                logger.exception("store: the writer's pass failed; it tries again")
                with self._lock:
                    self._writing = 0
                    self._failing_since = self._failing_since or time.time()
                    self._last_error = "the writer's pass failed (see the server log)"
                    self._progress.notify_all()
                retry_s = self._next_retry(retry_s)

    def _pass(self, retry_s: float) -> float:
        """Wait for records, write them as one batch; returns the next retry delay (0: none)."""
        self._sleep_until_handed_in()
        if self._stopping:
            return retry_s
        # After a failure, wait before trying again; otherwise let a burst of
        # records coalesce into one batch, written once the burst is over.
        if retry_s:
            self._pause(retry_s)
        else:
            self._gather()
        with self._lock:
            self._hurry = False
            self._drain_locked()
            batch, self._pending = self._pending, WriteBatch()
            self._writing = len(batch)
        error = self._write(batch) if len(batch) else None
        with self._lock:
            self._writing = 0
            if error is None:
                if self._failing_since is not None:
                    logger.warning("store: the database is back; held records written")
                self._failing_since = self._last_error = None
                self._written += len(batch)
                self._batches += 1 if len(batch) else 0
                retry_s = 0.0
            else:
                batch.absorb(self._pending)
                self._pending = batch
                if self._failing_since is None:
                    self._failing_since = time.time()
                    logger.error("store: writes fail, holding them and retrying: %s", error)
                self._last_error = error
                retry_s = self._next_retry(retry_s)
            self._progress.notify_all()
        return retry_s

    def _next_retry(self, retry_s: float) -> float:
        """The delay before the next try after a failure: 0.25 s, doubling up to the cap."""
        return min(self.retry_max_s, max(0.25, retry_s * 2))

    def _sleep_until_handed_in(self) -> None:
        while not self._handed_in() and not len(self._pending) and not self._stopping:
            self._sleeping = True
            if not self._handed_in():  # re-checked after raising the flag: none is missed
                self._wake.wait()
            self._sleeping = False
            self._wake.clear()

    def _gather(self) -> None:
        """Wait for a burst to end: until ``batch_delay_s`` passes with nothing handed in,
        or ``max_delay_s`` since the first record. Writing while tasks still pour in
        would take the interpreter from them (the GIL): the batch is written in the quiet
        that follows, coalesced, and each record reaches the database at most about
        ``max_delay_s`` after it was handed in."""
        deadline = time.monotonic() + self.max_delay_s
        while True:
            with self._lock:
                self._drain_locked()
                folded = self._folded
            self._pause(min(self.batch_delay_s, deadline - time.monotonic()))
            quiet = not self._handed_in() and self._folded == folded
            if quiet or self._hurry or self._stopping or time.monotonic() >= deadline:
                return

    def _pause(self, seconds: float) -> None:
        """Sleep ``seconds`` unless hurried, folding the queue into the batch whenever it
        grows long (and, while the database is away, every ``_DRAIN_WHILE_AWAY_S``), so
        that memory grows with distinct records, not with reports."""
        deadline = time.monotonic() + seconds
        while not self._hurry and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            away = self._failing_since is not None
            self._wake.wait(min(remaining, _DRAIN_WHILE_AWAY_S) if away else remaining)
            self._wake.clear()
            if away or len(self._inbox) >= _EARLY_DRAIN:
                with self._lock:
                    self._drain_locked()

    def _handed_in(self) -> bool:
        return bool(self._inbox or self._puts) or any(feed.pending() for feed in self._feeds)

    def _drain_locked(self) -> None:
        """Move the queues into the batch, keeping each record's latest state."""
        pending = self._pending
        room = self.max_held - len(pending)
        puts = self._puts
        folded = len(puts)
        for _ in range(folded):  # what comes meanwhile stays for the next fold
            item = puts.popleft()
            records: dict[Any, Any] = getattr(pending, item.kind)
            if item.key not in records:
                if room <= 0:
                    self._drop_locked()
                    continue
                room -= 1
            records[item.key] = item.record
        self._folded += folded
        for feed in self._feeds:
            self._pull_locked(feed)
        self._fold_tasks_locked()

    def _pull_locked(self, feed: Feed) -> None:
        """Take what ``feed`` holds, ``TAKE_LIMIT`` tasks at a time (each take holds the
        manager's lock), folding each take, until one comes back short."""
        limit = TAKE_LIMIT
        while True:
            taken = feed.take(limit)
            self._inbox.extend(taken)
            self._fold_tasks_locked()
            if len(taken) < limit:
                return

    def _fold_tasks_locked(self) -> None:
        """Move the queued snapshots into the batch, keeping each task's latest.

        The chunk is ordered by version (one counter per manager: a resubmitted id's
        task has higher ones) and made a dict in C, so the Python loop runs once per
        distinct task, not once per snapshot; a late, older snapshot of a task already
        in the batch is left out there.
        """
        inbox = self._inbox
        count = len(inbox)  # what comes meanwhile stays for the next fold
        if not count:
            return
        self._folded += count
        take = inbox.popleft
        chunk = [take() for _ in repeat(None, count)]
        chunk.sort(key=_BY_VERSION)
        latest = dict(zip(map(_TASK_KEY, chunk), chunk, strict=True))
        tasks = self._pending.tasks
        room = self.max_held - len(self._pending)
        held = tasks.get
        for key, snapshot in latest.items():
            old = held(key)
            if old is None:
                if room <= 0:
                    self._drop_locked()
                    continue
                room -= 1
            elif snapshot.version < old.version and snapshot.submitted_at <= old.submitted_at:
                continue  # a late, older snapshot of the same task
            tasks[key] = snapshot

    def _drop_locked(self) -> None:
        self._dropped += 1
        if self._dropped == 1 or self._dropped % 10_000 == 0:
            logger.error(
                "store: %d records held while the database is away (the bound); "
                "%d new one(s) dropped so far",
                self.max_held,
                self._dropped,
            )

    def _write(self, batch: WriteBatch) -> str | None:
        try:
            self.store.write(batch, self.process_id)
        except Exception as exc:  # any database error: keep the batch, retry later
            return describe(exc)
        return None
