"""A lock that a thread can hand work to instead of waiting for it.

Under the GIL, threads that block on a busy lock form a convoy: every release
wakes a waiter that must then win the GIL back, two context switches per
hand-off, and the queue of waiters never drains while work keeps coming. A
worker that only reports a finished task has no reason to wait: it leaves the
report, and whoever holds the lock settles it on release (flat combining).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

Item = TypeVar("Item")


class CombiningLock(Generic[Item]):
    """One lock plus the items handed in while it was taken.

    ``settle(items)`` runs under the lock, on whichever thread holds it. No item is
    ever stranded: an item is queued before its thread tries the lock, and every
    release looks for items left meanwhile. ``acquire``/``release`` make it the lock
    of a ``threading.Condition`` too, whose wait then settles as it lets the lock go.
    """

    def __init__(self, settle: Callable[[list[Item]], None]) -> None:
        self._lock = threading.Lock()
        self._settle = settle
        self._handed_in: deque[Item] = deque()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        """Settle what was handed in while the lock was taken, then let it go.

        Settling before letting go means a thread waiting for the lock finds every item
        handed in before this release already settled (a cancel then sees the task
        final, not still running); an item handed in during the settle is settled
        after the release, by this thread or the next holder.
        """
        try:
            self._settle_locked()
        finally:
            self._lock.release()
        self._settle_if_free()

    __enter__ = acquire

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def hand_in(self, item: Item) -> None:
        """Queue ``item``; settle it now if the lock is free, else its holder will."""
        self._handed_in.append(item)
        self._settle_if_free()

    def _settle_if_free(self) -> None:
        """Settle what was handed in, unless another thread holds the lock (it will)."""
        handed_in = self._handed_in
        while handed_in and self._lock.acquire(blocking=False):
            try:
                self._settle_locked()
            finally:
                self._lock.release()

    def _settle_locked(self) -> None:
        handed_in = self._handed_in
        if not handed_in:
            return
        items = []
        while handed_in:  # one popleft at a time: a hand_in may append meanwhile
            items.append(handed_in.popleft())
        self._settle(items)
