"""Bounded views of a running task's partial result, for lists that redraw every second.

A job's table or series may grow for hours; a view redrawn every second converts and
sends only its last ``LIVE_ROWS`` rows, or at most ``LIVE_POINTS`` points of a chart,
picked by their index from the start so the same points stay as the series grows (the
chart does not jump). The prepared view is kept per task version: a tick in which the
task did not change costs no conversion at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from cachetools import LRUCache

#: Rows of a running task's table shown (the latest ones): few, so that a card drawn as a
#: markdown table (ui/streamlit_output.py) stays about as tall as a scrolling dataframe.
LIVE_ROWS = 10
#: Points of a running task's chart shown at most.
LIVE_POINTS = 200

T = TypeVar("T")


def tail_rows(rows: Sequence[T], limit: int = LIVE_ROWS) -> list[T]:
    """The last ``limit`` rows."""
    return list(rows[-limit:]) if limit > 0 else []


def downsample(points: Sequence[T], limit: int = LIVE_POINTS) -> list[T]:
    """At most ``limit`` points: every ``stride``-th from the first, and always the last.

    ``stride`` is the smallest power of two that fits, so a growing series keeps the
    same points from one call to the next until the stride doubles, when every other
    one goes: a chart redrawn each second does not jump.
    """
    if limit < 2:
        raise ValueError(f"limit must be at least 2, got {limit}")
    count = len(points)
    if count <= limit:
        return list(points)
    stride = 1
    while (count - 1 + stride - 1) // stride + 1 > limit:  # kept points, the last included
        stride *= 2
    kept = list(points[::stride])
    if (count - 1) % stride:
        kept.append(points[-1])
    return kept


class ViewCache:
    """The latest prepared view of each task; thread-safe, bounded (least recent out).

    One entry per task, replaced when its version moves: a view that can no longer be
    asked for is not kept.
    """

    def __init__(self, maxsize: int = 1024) -> None:
        self._views: LRUCache[Hashable, tuple[int, Any]] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: int, build: Callable[[], T]) -> T:
        """The view of ``key`` at ``version``, built (outside the lock) if not kept."""
        with self._lock:
            kept = self._views.get(key)
        if kept is not None and kept[0] == version:
            view: T = kept[1]
            return view
        fresh = build()
        with self._lock:
            current = self._views.get(key)
            if current is None or current[0] < version:
                self._views[key] = (version, fresh)
        return fresh

    def clear(self) -> None:
        with self._lock:
            self._views.clear()


def column_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> Any:
    """The rows as an Arrow table (one typed column each); None when a column mixes types.

    Arrow skips pandas: converting a chart's 200 points costs tens of microseconds, not
    milliseconds.
    """
    import pyarrow as pa

    try:
        arrays = [pa.array([row.get(column) for row in rows]) for column in columns]
        return pa.Table.from_arrays(arrays, names=list(columns))  # pa.table(dict) is 6x slower
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
