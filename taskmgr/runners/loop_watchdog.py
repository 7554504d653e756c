"""Notices a coroutine that holds its event loop (a CPU-bound loop without awaits).

A stalled loop cannot report itself, so a thread pings it: a ping that goes
unanswered past the threshold while the same task stays current is a stall, blamed
on that task. A loop that is merely busy (many short steps) lags without a single
culprit, which counts as lag only. The thread pings only while coroutines run and
waits on a condition otherwise, so an idle manager costs nothing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from taskmgr.snapshot import LoopHealth

logger = logging.getLogger(__name__)

#: How long the loop may go without answering before the current task is blamed.
STALL_THRESHOLD_S = 0.1
#: Time between two pings while coroutines run.
PING_INTERVAL_S = 0.2

#: Names the work an asyncio task belongs to (None: not one of ours).
Describe = Callable[["asyncio.Task[Any]"], "str | None"]


class LoopWatchdog:
    """Pings one loop from a thread of its own while ``arm``-ed; ``health()`` says how it went."""

    def __init__(
        self,
        describe: Describe,
        *,
        threshold_s: float = STALL_THRESHOLD_S,
        interval_s: float = PING_INTERVAL_S,
    ) -> None:
        self._describe = describe
        self._threshold_s = threshold_s
        self._interval_s = interval_s
        self._cond = threading.Condition()
        self._armed = False
        self._closed = False
        self._answered: threading.Event | None = None  # the ping in flight
        self._lag_s = 0.0
        self._max_lag_s = 0.0
        self._stalls = 0
        self._stalled_since: float | None = None
        self._blocking: str | None = None
        self._last_blocker: str | None = None
        self._thread: threading.Thread | None = None

    def watch(self, loop: asyncio.AbstractEventLoop, name: str) -> None:
        """Start the watching thread for ``loop`` (once)."""
        thread = threading.Thread(target=self._run, args=(loop,), name=name, daemon=True)
        thread.start()
        self._thread = thread

    def arm(self, armed: bool) -> None:
        """Ping while coroutines run (True); stop pinging when none does (False)."""
        with self._cond:
            if armed != self._armed:
                self._armed = armed
                if not armed:
                    self._lag_s = 0.0
                self._cond.notify()

    def close(self) -> None:
        """Stop the thread; it may be waiting on a stalled loop, which a close releases."""
        with self._cond:
            self._closed = True
            if self._answered is not None:
                self._answered.set()
            self._cond.notify()

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def health(self) -> LoopHealth:
        with self._cond:
            lag = self._lag_s
            if self._stalled_since is not None:
                lag = max(lag, time.monotonic() - self._stalled_since)
            return LoopHealth(
                lag_s=lag,
                max_lag_s=max(self._max_lag_s, lag),
                stalls=self._stalls,
                blocking=self._blocking,
                last_blocker=self._last_blocker,
            )

    def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            with self._cond:
                while not self._armed and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                answered = self._answered = threading.Event()
            sent = time.monotonic()
            try:
                loop.call_soon_threadsafe(answered.set)
            except RuntimeError:  # the loop closed under us: nothing left to watch
                return
            if not answered.wait(self._threshold_s):
                self._check_stall(loop, answered, sent)
            lag = time.monotonic() - sent
            with self._cond:
                self._answered = None
                self._lag_s = lag if self._armed else 0.0
                self._max_lag_s = max(self._max_lag_s, lag)
                self._cond.wait(self._interval_s)  # the pace of pings; close() cuts it short

    def _check_stall(
        self, loop: asyncio.AbstractEventLoop, answered: threading.Event, sent: float
    ) -> None:
        """The loop is late: a stall if one task holds it across two looks, then wait it out."""
        first = asyncio.current_task(loop)
        if answered.wait(self._threshold_s / 2):
            return
        culprit = asyncio.current_task(loop)
        if culprit is None or culprit is not first:
            answered.wait()
            return
        label = self._describe(culprit) or culprit.get_name()
        with self._cond:
            self._stalls += 1
            self._stalled_since = sent
            self._blocking = self._last_blocker = label
        logger.warning(
            "task %s holds the event loop of the async tasks (no await for %.2f s); "
            "submit CPU-bound work as a plain function",
            label,
            time.monotonic() - sent,
        )
        answered.wait()
        held = time.monotonic() - sent
        with self._cond:  # one change: a reader never sees the stall over but not its length
            self._stalled_since = None
            self._blocking = None
            self._max_lag_s = max(self._max_lag_s, held)
        logger.warning("task %s let the event loop go after %.2f s", label, held)
