"""A process's heartbeat thread: alive in the store, dead ones noticed, cancels honoured.

Each beat (every ``interval_s``, or at once when PostgreSQL announces a cancel):
register or refresh this process; mark processes silent for ``dead_after_s`` dead and
their unfinished tasks INTERRUPTED; hand the cancels asked of this process to
``on_cancel``; now and then drop records older than the retention. Until the database
has been opened (migrated) the beat tries that first, so a process that started while
the database was away joins it when it returns.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from store.errors import SchemaTooNew, StoreError, describe
from store.notify import CancelWakeup
from store.protocol import TaskStore
from store.records import ProcessRecord, TaskKey

logger = logging.getLogger(__name__)

#: Seconds between two clean-ups of expired records.
_PURGE_EVERY_S = 600.0


@dataclass(frozen=True)
class HeartbeatHealth:
    ok: bool
    opened: bool
    last_beat: float | None
    last_error: str | None


class ProcessHeartbeat:
    def __init__(
        self,
        store: TaskStore,
        process: ProcessRecord,
        wakeup: CancelWakeup,
        on_cancel: Callable[[str, str], None],
        *,
        interval_s: float,
        dead_after_s: float,
        retention_s: float,
        on_back: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.process = process
        self.interval_s = interval_s
        self.dead_after_s = dead_after_s
        self.retention_s = retention_s
        self._wakeup = wakeup
        self._on_cancel = on_cancel
        self._on_back = on_back
        self._lock = threading.Lock()
        self._opened = False
        self._ok = False
        self._last_beat: float | None = None
        self._last_error: str | None = None
        self._last_purge = 0.0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="store-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def health(self) -> HeartbeatHealth:
        with self._lock:
            return HeartbeatHealth(self._ok, self._opened, self._last_beat, self._last_error)

    def beat(self) -> list[TaskKey]:
        """One beat, on the caller's thread; returns the tasks found interrupted.

        Raises what the database raised (``StoreUnavailable``, ``SchemaTooNew``, ...).
        """
        try:
            return self._beat()
        except BaseException as exc:
            self._failed(str(exc) if isinstance(exc, StoreError) else describe(exc))
            raise

    def _beat(self) -> list[TaskKey]:
        if not self._opened:
            self.store.open()
            with self._lock:
                self._opened = True
        now = time.time()
        self.store.heartbeat(self.process, now)
        interrupted = self.store.interrupt_dead(now, self.dead_after_s, self.process.id)
        for owner, task_id in self.store.take_cancel_requests(self.process.id):
            self._on_cancel(owner, task_id)
        if now - self._last_purge > _PURGE_EVERY_S:
            self._last_purge = now
            self.store.forget_before(now - self.retention_s)
        with self._lock:
            was_ok, self._ok = self._ok, True
            self._last_beat = time.time()
            self._last_error = None
        if interrupted:
            logger.warning("store: %d task(s) of stopped processes interrupted", len(interrupted))
        if not was_ok and self._on_back is not None:
            self._on_back()
        return interrupted

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wakeup.wake()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._wakeup.close()

    def _run(self) -> None:
        if self.health().ok:  # open() has just beaten: the next beat is due in a while
            self._wakeup.wait(self.interval_s)
        while not self._stopping.is_set():
            try:
                self.beat()
            except SchemaTooNew as exc:
                logger.error("store: %s", exc)
                return  # nothing to retry: only another version of the app can use it
            except Exception:  # the database is away: keep beating until it is back
                pass
            self._wakeup.wait(self.interval_s)

    def _failed(self, error: str) -> None:
        with self._lock:
            if self._ok or self._last_error is None:
                logger.warning("store: heartbeat failed: %s", error)
            self._ok = False
            self._last_error = error
