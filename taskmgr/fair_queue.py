"""Round-robin queue across owners: one owner's backlog never starves another's."""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar


class _Owned(Protocol):
    @property
    def owner(self) -> Hashable: ...


T = TypeVar("T", bound=_Owned)
#: An owner's place in the heap: (tick of its last service, arrival, owner).
_Key = tuple[int, int, Hashable]


class _Lane(Generic[T]):
    """One owner's FIFO; items carry sequence numbers so a place is found without a scan."""

    __slots__ = ("items", "next_seq", "removed", "seqs")

    def __init__(self) -> None:
        self.items: deque[T] = deque()
        self.seqs: deque[int] = deque()
        self.next_seq = 0
        self.removed: list[int] = []  # sequence numbers taken out of the middle, sorted

    def index(self, seq: int) -> int:
        head = self.seqs[0]
        gone = bisect.bisect_left(self.removed, seq) - bisect.bisect_left(self.removed, head)
        return seq - head - gone


class FairQueue(Generic[T]):
    """FIFO within an owner; across owners, the one served least recently goes next.

    Owners waiting for service sit in a heap keyed by the tick of their last
    service (never served sorts first, then by arrival). Not thread-safe: the
    manager calls it under its lock.
    """

    _NEVER = -1

    def __init__(self) -> None:
        self._lanes: dict[Hashable, _Lane[T]] = {}
        self._seq_of: dict[T, int] = {}
        self._last_served: dict[Hashable, int] = {}
        self._heap: list[_Key] = []
        self._key_of: dict[Hashable, _Key] = {}  # each owner's one entry in the heap
        self._ticks = itertools.count()
        self._arrivals = itertools.count()

    def __len__(self) -> int:
        return len(self._seq_of)

    def count(self, owner: Hashable) -> int:
        lane = self._lanes.get(owner)
        return len(lane.items) if lane else 0

    def counts(self) -> dict[Hashable, int]:
        return {owner: len(lane.items) for owner, lane in self._lanes.items()}

    def push(self, item: T) -> None:
        owner = item.owner
        lane = self._lanes.get(owner)
        if lane is None:
            lane = self._lanes[owner] = _Lane()
        seq = lane.next_seq
        lane.next_seq += 1
        lane.items.append(item)
        lane.seqs.append(seq)
        self._seq_of[item] = seq
        if owner not in self._key_of:
            key = (self._last_served.get(owner, self._NEVER), next(self._arrivals), owner)
            heapq.heappush(self._heap, key)
            self._key_of[owner] = key

    def remove(self, item: T) -> bool:
        """Take a queued item out (its owner's heap entry is dropped lazily)."""
        seq = self._seq_of.pop(item, None)
        if seq is None:
            return False
        lane = self._lanes[item.owner]
        if lane.seqs[0] == seq:
            lane.items.popleft()
            lane.seqs.popleft()
        else:
            lane.items.remove(item)
            lane.seqs.remove(seq)
            bisect.insort(lane.removed, seq)
        if not lane.items:
            del self._lanes[item.owner]
        return True

    def pop_next(self, may_serve: Callable[[Hashable], bool] | None = None) -> T | None:
        """The next item in fair order among owners that ``may_serve`` allows (all if None)."""
        skipped: list[_Key] = []
        found: T | None = None
        while self._heap:
            entry = heapq.heappop(self._heap)
            owner = entry[2]
            lane = self._lanes.get(owner)
            if lane is None:
                del self._key_of[owner]
                continue
            if may_serve is not None and not may_serve(owner):
                skipped.append(entry)
                continue
            found = lane.items.popleft()
            seq = lane.seqs.popleft()
            del self._seq_of[found]
            if lane.removed and lane.removed[0] < seq:
                del lane.removed[: bisect.bisect_left(lane.removed, seq)]
            tick = next(self._ticks)
            self._last_served[owner] = tick
            if lane.items:
                key = (tick, entry[1], owner)
                heapq.heappush(self._heap, key)
                self._key_of[owner] = key
            else:
                del self._lanes[owner]
                del self._key_of[owner]
            break
        for entry in skipped:
            heapq.heappush(self._heap, entry)
        return found

    def forget(self, owner: Hashable) -> None:
        """Drop the service history of an owner that has nothing queued or running."""
        if owner not in self._lanes:
            self._last_served.pop(owner, None)

    def position(self, item: T) -> int | None:
        """1-based place of ``item`` in the dispatch order as the queue stands (caps ignored).

        Dispatch goes in rounds, one item per owner per round, owners in heap order:
        the item at ``index`` in its lane follows ``index`` full rounds of every owner
        (each owner giving at most its length), then the owners ahead of its own.
        """
        seq = self._seq_of.get(item)
        if seq is None:
            return None
        mine = item.owner
        lanes = self._lanes
        index = lanes[mine].index(seq)
        if len(lanes) == 1:
            return index + 1
        key_of = self._key_of
        my_key = key_of[mine]
        ahead = index
        for owner, lane in lanes.items():
            length = len(lane.items)
            if length <= index:
                ahead += length
            elif owner != mine:
                ahead += index + (key_of[owner] < my_key)
        return ahead + 1
