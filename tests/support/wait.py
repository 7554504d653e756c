"""Waiting on conditions with a deadline: the one way tests synchronise with real servers."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

#: Deadlines are generous: CI machines are shared, noisy and have 2 cores.
DEFAULT_TIMEOUT_S = 30.0


class WaitTimeout(AssertionError):
    """The condition did not hold before the deadline."""


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float = DEFAULT_TIMEOUT_S,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition",
) -> T:
    """Poll ``predicate`` until it returns a truthy value, and return that value.

    Raises ``WaitTimeout`` naming ``message`` (a string, or a function called at
    the deadline to describe what was seen) after ``timeout`` seconds. An
    exception raised by the predicate propagates at once.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            text = message() if callable(message) else message
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {text}")
        time.sleep(min(interval, remaining))  # ok: poll interval
