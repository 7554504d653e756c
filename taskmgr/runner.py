"""The seam between the manager and whatever runs its work.

The manager hands a runner one unit of work only when a worker is free, so a
runner never queues; a distributed backend implements the same two methods.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol


class TaskRunner(Protocol):
    """Runs work items concurrently, up to ``max_workers`` at once."""

    max_workers: int

    def start(self, work: Callable[[], None]) -> None:
        """Begin ``work`` on a free worker now; must not block."""

    def shutdown(self, wait: bool) -> None:
        """Release the workers; with ``wait``, after the work started so far ends."""


class ThreadPoolRunner:
    """The default runner: one shared, bounded ``ThreadPoolExecutor``."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "taskmgr") -> None:
        self.max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix=thread_name_prefix)

    def start(self, work: Callable[[], None]) -> None:
        self._executor.submit(work)

    def shutdown(self, wait: bool) -> None:
        self._executor.shutdown(wait=wait)
