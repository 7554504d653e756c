"""Finished task records, kept for a while and then forgotten.

The manager's retention policy (``result_ttl_s``, ``max_results``) in one place: a
``cachetools`` TTL cache that tells its owner each record it drops, so the owner's
index forgets it too. Queued and running tasks never enter it, so never expire.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import TTLCache

from taskmgr.record import TaskRecord

#: A task's key: its owner and its id.
Key = tuple[Hashable, Hashable]


class ExpiringRecords(TTLCache[Key, TaskRecord]):
    """Finished records, bounded by age and count; tells the manager what it drops."""

    def __init__(
        self, maxsize: int, ttl: float, on_evict: Callable[[Key, TaskRecord], None]
    ) -> None:
        super().__init__(maxsize=maxsize, ttl=ttl, timer=time.monotonic)
        self._on_evict = on_evict

    def expire(self, time: float | None = None) -> Any:
        expired = super().expire(time)
        for key, record in expired:
            self._on_evict(key, record)
        return expired

    def popitem(self) -> tuple[Key, TaskRecord]:
        key, record = super().popitem()
        self._on_evict(key, record)
        return key, record
