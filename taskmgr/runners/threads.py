"""The default runner for plain tasks: one shared, bounded ``ThreadPoolExecutor``."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


class ThreadPoolRunner:
    """Runs each unit of work on a thread of one bounded executor (a ``TaskRunner``)."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "taskmgr") -> None:
        self.max_workers = max_workers
        self._executor = ThreadPoolExecutor(max_workers, thread_name_prefix=thread_name_prefix)

    def start(self, work: Callable[[], None]) -> None:
        self._executor.submit(work)

    def shutdown(self, wait: bool) -> None:
        self._executor.shutdown(wait=wait)
