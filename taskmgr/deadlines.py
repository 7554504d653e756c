"""One sleeping thread that fires callbacks at deadlines (task timeouts)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


def _nothing() -> None:
    pass


class Deadline:
    """A scheduled call; ``DeadlineTimer.cancel`` makes it a no-op."""

    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False


class DeadlineTimer:
    """Calls each scheduled callback once its deadline passes.

    The thread starts on first use and waits on a condition until the earliest
    deadline, so it costs nothing while idle.
    """

    def __init__(self, name: str = "taskmgr-deadlines") -> None:
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._cancelled = 0

    def schedule(self, delay_s: float, callback: Callable[[], None]) -> Deadline:
        deadline = Deadline(time.monotonic() + delay_s, callback)
        with self._cond:
            if self._closed:
                deadline.cancelled = True
                return deadline
            heapq.heappush(self._heap, (deadline.when, next(self._seq), deadline))
            if self._thread is None:
                self._start_thread()
            elif self._heap[0][2] is deadline:
                self._cond.notify()
        return deadline

    def _start_thread(self) -> None:
        """Start the sleeping thread; if the system has no thread to give, the deadline
        stays queued and the next ``schedule`` tries again (never raise: callers hold
        the task manager's lock)."""
        thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        try:
            thread.start()
        except RuntimeError:
            logger.exception("could not start the deadline thread; timeouts wait for it")
            return
        self._thread = thread

    def cancel(self, deadline: Deadline) -> None:
        """Forget a deadline; the heap is compacted once most of it is cancelled."""
        with self._cond:
            if deadline.cancelled:
                return
            deadline.cancelled = True
            deadline.callback = _nothing  # let go of what the callback holds (a task's result)
            self._cancelled += 1
            if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._cancelled = 0

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return sum(1 for _, _, d in self._heap if not d.cancelled)

    def _run(self) -> None:
        while True:
            with self._cond:
                due = self._wait_for_due()
                if due is None:
                    return
            try:
                due.callback()
            except BaseException:  # nothing may stop this thread: later deadlines depend on it
                logger.exception("deadline callback failed")

    def _wait_for_due(self) -> Deadline | None:
        """Under the condition: block until a live deadline is due; None once closed."""
        while not self._closed:
            if not self._heap:
                self._cond.wait()
                continue
            when, _, deadline = self._heap[0]
            if deadline.cancelled:
                heapq.heappop(self._heap)
                self._cancelled = max(0, self._cancelled - 1)
                continue
            remaining = when - time.monotonic()
            if remaining > 0:
                self._cond.wait(remaining)
                continue
            heapq.heappop(self._heap)
            deadline.cancelled = True  # fired: a later cancel() has nothing to do
            return deadline
        return None
