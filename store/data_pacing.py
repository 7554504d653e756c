"""How often a running task's partial data is rewritten: within a share of one core.

A job's partial result may grow for hours (a table gaining a row a second), and each
rewrite encodes all of it. Rewritten with every batch, 120 such tasks took 40% of a
busy server's GIL from the pages. So a task's progress and message are still written
with every batch, but its data only once the previous encoding has been paid for: at
least ``min_interval_s`` later, and ``running tasks x last encode time / budget`` later,
so that all running tasks' data together cost at most ``budget`` of a core however
large they grow. A task's first snapshot, a change of status and its final snapshot
always carry its data.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import NamedTuple

from taskmgr import TaskStatus

#: Seconds between two rewrites of one running task's data, at the least.
MIN_DATA_INTERVAL_S = 2.0
#: Share of one core that encoding running tasks' data may take, all tasks together.
DATA_BUDGET = 0.05


class _Written(NamedTuple):
    status: TaskStatus
    submitted_at: float
    next_due: float


class DataPacer:
    """Per task: is its data due for a rewrite? Thread-safe; forgets final tasks."""

    def __init__(
        self, min_interval_s: float = MIN_DATA_INTERVAL_S, budget: float = DATA_BUDGET
    ) -> None:
        if not min_interval_s >= 0 or not 0 < budget <= 1:
            raise ValueError(
                f"need min_interval_s >= 0 and 0 < budget <= 1, got {min_interval_s}, {budget}"
            )
        self.min_interval_s = min_interval_s
        self.budget = budget
        self._written: dict[Hashable, _Written] = {}
        self._lock = threading.Lock()

    def due(self, key: Hashable, status: TaskStatus, submitted_at: float, now: float) -> bool:
        """True when this snapshot's data must be written (``now``: monotonic seconds)."""
        if status.is_final:
            return True
        with self._lock:
            last = self._written.get(key)
        return (
            last is None
            or last.status is not status
            or last.submitted_at != submitted_at
            or now >= last.next_due
        )

    def written(
        self,
        key: Hashable,
        status: TaskStatus,
        submitted_at: float,
        encode_s: float,
        now: float,
    ) -> None:
        """The data was written (committed), its encoding having taken ``encode_s``."""
        with self._lock:
            if status.is_final:
                self._written.pop(key, None)
                return
            running = len(self._written) + (key not in self._written)
            wait = max(self.min_interval_s, running * encode_s / self.budget)
            self._written[key] = _Written(status, submitted_at, now + wait)

    def __len__(self) -> int:
        with self._lock:
            return len(self._written)
