"""Full garbage collections on a schedule, on a thread of their own.

Streamlit collects after every script and fragment run (``runner.postScriptGC``) so that
reference cycles holding large values (a dataframe in a traceback's frame, say) do not
pile up between Python's own, rarer full collections. Under many polling tabs that cost
about a quarter of the server's CPU, paid on the script threads, so .streamlit/config.toml
turns it off and this thread collects every ``interval_s`` instead: memory stays bounded
the same way, at a cost that does not grow with the number of tabs.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

logger = logging.getLogger(__name__)

#: Seconds between two full collections; one takes tens of milliseconds on a busy server.
COLLECT_INTERVAL_S = 15.0


class ScheduledCollector:
    """A daemon thread that runs ``gc.collect()`` every ``interval_s`` until stopped.

    With ``freeze``, the objects alive after the first collection are frozen
    (``gc.freeze``): never collected again, and never walked again.
    """

    def __init__(self, interval_s: float = COLLECT_INTERVAL_S, *, freeze: bool = False) -> None:
        if not interval_s > 0:
            raise ValueError(f"interval_s must be a positive number of seconds, got {interval_s!r}")
        self.interval_s = interval_s
        self.freeze = freeze
        self._changed = threading.Condition()
        self._stopped = False
        self._runs = 0
        #: Objects found unreachable by the latest collection, and how long it took.
        self.last_collected = 0
        #: Objects found unreachable by every collection so far.
        self.total_collected = 0
        self.last_duration_s = 0.0
        self._thread = threading.Thread(target=self._run, name="scheduled-gc", daemon=True)

    def start(self) -> ScheduledCollector:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    @property
    def runs(self) -> int:
        with self._changed:
            return self._runs

    def wait_for_runs(self, count: int, timeout: float) -> bool:
        """True once ``count`` collections have run (False after ``timeout`` seconds)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._runs >= count, timeout)

    def _run(self) -> None:
        while True:
            with self._changed:
                if self._changed.wait_for(lambda: self._stopped, self.interval_s):
                    return
            started = time.perf_counter()
            try:
                collected = gc.collect()
                if self.freeze and not self._runs:
                    # What exists after the first collection (modules, caches, the first
                    # sessions) lives for good: later collections, ours and Python's own
                    # on the script threads, no longer walk it.
                    gc.freeze()
            except Exception:  # a finalizer's error must not end the schedule
                logger.exception("scheduled garbage collection failed")
                collected = 0
            with self._changed:
                self.last_collected = collected
                self.total_collected += collected
                self.last_duration_s = time.perf_counter() - started
                self._runs += 1
                self._changed.notify_all()
