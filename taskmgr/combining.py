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
    holder settles what it finds before it lets the lock go (on leaving ``with``,
    or through ``settle_locked`` before a Condition's wait releases it).
    """

    def __init__(self, settle: Callable[[list[Item]], None]) -> None:
        self.lock = threading.Lock()  # also the lock of the owner's Conditions
        self._settle = settle
        self._handed_in: deque[Item] = deque()

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc_info: object) -> None:
        if self._handed_in:
            self.settle_locked()
        self.lock.release()
        # Handed in between that check and the release, by a thread that found it taken.
        while self._handed_in and self.lock.acquire(blocking=False):
            try:
                self.settle_locked()
            finally:
                self.lock.release()

    def hand_in(self, item: Item) -> None:
        """Queue ``item``; settle it now if the lock is free, else its holder will."""
        self._handed_in.append(item)
        while self._handed_in and self.lock.acquire(blocking=False):
            try:
                self.settle_locked()
            finally:
                self.lock.release()

    def settle_locked(self) -> bool:
        """Under the lock: settle every item handed in so far, oldest first; any?"""
        handed_in = self._handed_in
        items = []
        while handed_in:  # one popleft at a time: a hand_in may append meanwhile
            items.append(handed_in.popleft())
        if items:
            self._settle(items)
        return bool(items)
