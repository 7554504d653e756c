"""Argument checks shared by the manager's constructor and its methods.

A caller's mistake is refused at once, with the argument's name, on the caller's
thread: never later on a worker, where it would only be logged.
"""

from __future__ import annotations

import math


def wait_seconds(what: str, seconds: float | None) -> float | None:
    """A wait's length in seconds: None (and infinity) means no limit; NaN is refused."""
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"{what} must be a number of seconds or None, got {seconds!r}")
    if math.isnan(seconds):
        raise ValueError(f"{what} must be a number of seconds or None, got NaN")
    return None if math.isinf(seconds) and seconds > 0 else float(seconds)


def require_positive_int(name: str, value: object) -> None:
    """A count: a whole number of at least 1 (a bool is refused, though it is an int)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def require_positive_number(name: str, value: object) -> None:
    """A length of time: finite and above zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


def require_hashable(name: str, value: object) -> None:
    """A key of the manager's index: refused here rather than as a bare TypeError inside."""
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"{name} must be hashable, got {type(value).__name__}") from None
