"""Running statistics of CSV columns, fed one chunk of text cells at a time."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

#: Sketch size of the distinct-value estimate: exact up to this many, then within about 2%.
DISTINCT_SKETCH = 2048


class ColumnProfile:
    """Running statistics of one column, fed one chunk (a Series of text cells) at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.count = 0
        self.nulls = 0
        self.all_numeric = True
        self.all_integer = True
        self.all_boolean = True
        self.total = 0.0
        self.low: tuple[float, str] | None = None
        self.high: tuple[float, str] | None = None
        self.text_low: str | None = None
        self.text_high: str | None = None
        self.distinct = DistinctSketch(DISTINCT_SKETCH)

    def add(self, cells: pd.Series[str]) -> None:
        values = cells.dropna()
        self.nulls += len(cells) - len(values)
        if values.empty:
            return
        self.count += len(values)
        text_low, text_high = str(values.min()), str(values.max())
        self.text_low = text_low if self.text_low is None else min(self.text_low, text_low)
        self.text_high = text_high if self.text_high is None else max(self.text_high, text_high)
        self.all_boolean = self.all_boolean and bool(
            values.str.strip().str.lower().isin(("true", "false")).all()
        )
        if self.all_numeric:
            numbers = pd.to_numeric(values, errors="coerce")
            if numbers.isna().any():
                self.all_numeric = self.all_integer = False
            else:
                self._add_numbers(values, numbers.astype(float))
        self.distinct.add(pd.util.hash_pandas_object(values, index=False).to_numpy(dtype=np.uint64))

    def _add_numbers(self, values: pd.Series[str], numbers: pd.Series[float]) -> None:
        self.all_integer = self.all_integer and bool(
            values.str.strip().str.fullmatch(r"[+-]?\d+").all()
        )
        self.total += float(numbers.sum())
        array = numbers.to_numpy(dtype=float)
        low_at, high_at = int(array.argmin()), int(array.argmax())
        low = (float(array[low_at]), str(values.iloc[low_at]).strip())
        high = (float(array[high_at]), str(values.iloc[high_at]).strip())
        self.low = low if self.low is None or low[0] < self.low[0] else self.low
        self.high = high if self.high is None or high[0] > self.high[0] else self.high

    @property
    def dtype(self) -> str:
        if self.count == 0:
            return "empty"
        if self.all_boolean:
            return "bool"
        if self.all_numeric:
            return "int" if self.all_integer else "float"
        return "text"

    def row(self) -> dict[str, Any]:
        """This column as one row of the profile table (plain, JSON-friendly values)."""
        numeric = self.count > 0 and self.all_numeric and not self.all_boolean
        low: str | None
        high: str | None
        if numeric and self.low is not None and self.high is not None:
            low, high = self.low[1], self.high[1]
        else:
            low, high = self.text_low, self.text_high
        mean = self.total / self.count if numeric else None
        return {
            "name": self.name,
            "dtype": self.dtype,
            "count": self.count,
            "nulls": self.nulls,
            "min": low,
            "max": high,
            "mean": mean if mean is not None and math.isfinite(mean) else None,
            "distinct": self.distinct.estimate(),
        }


class DistinctSketch:
    """K-minimum-values sketch: keeps the k smallest 64-bit hashes seen.

    Below k distinct values the count is exact; above, the k-th smallest hash tells how
    densely the hash space is filled, with a relative error of about 1/sqrt(k).
    """

    def __init__(self, k: int) -> None:
        self.k = k
        self._smallest: npt.NDArray[np.uint64] = np.empty(0, dtype=np.uint64)

    def add(self, hashes: npt.NDArray[np.integer[Any]]) -> None:
        self._smallest = np.union1d(self._smallest, hashes.astype(np.uint64, copy=False))[: self.k]

    def estimate(self) -> int:
        if len(self._smallest) < self.k:
            return len(self._smallest)
        fill = (float(self._smallest[-1]) + 1.0) / 2.0**64
        return round((self.k - 1) / fill)
