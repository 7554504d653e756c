"""How often a job publishes a partial result."""

from __future__ import annotations

import time

#: Seconds between two partial results: fast enough for a live view, cheap for the manager.
REPORT_INTERVAL_S = 0.1


class ReportThrottle:
    """Says when a fast loop should publish again; the first call is always due."""

    def __init__(self, interval_s: float = REPORT_INTERVAL_S) -> None:
        self._interval_s = interval_s
        self._next = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self._interval_s
        return True
