"""Round-robin queue across owners: one owner's backlog never starves another's."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar


class _Owned(Protocol):
    @property
    def owner(self) -> Hashable: ...


T = TypeVar("T", bound=_Owned)


class FairQueue(Generic[T]):
    """FIFO within an owner; across owners, the one served least recently goes next.

    Owners waiting for service sit in a heap keyed by the tick of their last
    service (never served sorts first, then by arrival). Not thread-safe: the
    manager calls it under its lock.
    """

    _NEVER = -1

    def __init__(self) -> None:
        self._items: dict[Hashable, deque[T]] = {}
        self._last_served: dict[Hashable, int] = {}
        self._heap: list[tuple[int, int, Hashable]] = []
        self._in_heap: set[Hashable] = set()
        self._ticks = itertools.count()
        self._arrivals = itertools.count()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def count(self, owner: Hashable) -> int:
        items = self._items.get(owner)
        return len(items) if items else 0

    def counts(self) -> dict[Hashable, int]:
        return {owner: len(items) for owner, items in self._items.items() if items}

    def push(self, item: T) -> None:
        owner = item.owner
        items = self._items.get(owner)
        if items is None:
            items = self._items[owner] = deque()
        items.append(item)
        self._size += 1
        if owner not in self._in_heap:
            tick = self._last_served.get(owner, self._NEVER)
            heapq.heappush(self._heap, (tick, next(self._arrivals), owner))
            self._in_heap.add(owner)

    def remove(self, item: T) -> bool:
        """Take a queued item out (its owner's heap entry is dropped lazily)."""
        items = self._items.get(item.owner)
        if not items:
            return False
        try:
            items.remove(item)
        except ValueError:
            return False
        self._size -= 1
        if not items:
            del self._items[item.owner]
        return True

    def pop_next(self, may_serve: Callable[[Hashable], bool]) -> T | None:
        """The next item in fair order among owners that ``may_serve`` allows, or None."""
        skipped: list[tuple[int, int, Hashable]] = []
        found: T | None = None
        while self._heap:
            entry = heapq.heappop(self._heap)
            owner = entry[2]
            items = self._items.get(owner)
            if not items:
                self._in_heap.discard(owner)
                continue
            if not may_serve(owner):
                skipped.append(entry)
                continue
            found = items.popleft()
            self._size -= 1
            tick = next(self._ticks)
            self._last_served[owner] = tick
            if items:
                heapq.heappush(self._heap, (tick, entry[1], owner))
            else:
                del self._items[owner]
                self._in_heap.discard(owner)
            break
        for entry in skipped:
            heapq.heappush(self._heap, entry)
        return found

    def forget(self, owner: Hashable) -> None:
        """Drop the service history of an owner that has nothing queued or running."""
        if owner not in self._items:
            self._last_served.pop(owner, None)

    def position(self, item: T) -> int | None:
        """1-based place of ``item`` in the dispatch order as the queue stands (caps ignored)."""
        items = self._items.get(item.owner)
        if not items:
            return None
        try:
            index = items.index(item)
        except ValueError:
            return None
        order = sorted(entry for entry in self._heap if self._items.get(entry[2]))
        ahead = 0
        passed_own = False
        for _, _, owner in order:
            length = len(self._items[owner])
            if owner == item.owner:
                passed_own = True
                ahead += index
            else:
                # Owners before ours get one more turn in our round.
                ahead += min(length, index + (0 if passed_own else 1))
        return ahead + 1
