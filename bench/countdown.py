"""The finish line of the throughput benchmarks: every no-op task ticks it once."""

from __future__ import annotations

import threading


class Countdown:
    """``done`` is set when ``tick`` has been called ``n`` times, from any threads."""

    def __init__(self, n: int) -> None:
        self.done = threading.Event()
        self._left = n
        self._lock = threading.Lock()

    def tick(self, *_: object) -> None:
        """One task ran (its arguments, a task context or none, are ignored)."""
        with self._lock:
            self._left -= 1
            if not self._left:
                self.done.set()
