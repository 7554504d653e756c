"""The worker side of the Dask runner: what a task runs inside, on a Dask worker.

A job sees a ``WorkerTaskContext``, the same surface as ``TaskContext``. Reports go
to the manager as worker events on the manager's topic; a cancel arrives through a
per-task ``distributed.Event`` that a watcher thread turns into a local
``threading.Event``, so ``ctx.sleep`` wakes and ``check()`` raises as on a thread.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any

import cloudpickle
from distributed import Event, get_client, get_worker

from taskmgr.errors import TaskCancelled

#: How long one wait of the cancel watcher lasts: it notices the task's end this late.
WATCH_S = 0.5
#: What a task on a worker returns: whether it ended by cancel, its result, last report seq.
Returned = tuple[bool, Any, int]


class WorkerTaskContext:
    """``TaskContext`` for a task running on a Dask worker."""

    __slots__ = ("_key", "_seq", "_topic", "cancel_event", "owner", "task_id")

    def __init__(self, key: str, topic: str, task_id: Hashable, owner: Hashable) -> None:
        self._key = key
        self._topic = topic
        self._seq = 0
        self.task_id = task_id
        self.owner = owner
        self.cancel_event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check(self) -> None:
        """Raise ``TaskCancelled`` if cancel was requested."""
        if self.cancel_event.is_set():
            raise TaskCancelled(self.task_id)

    def sleep(self, seconds: float) -> None:
        """Sleep, but wake at once and raise ``TaskCancelled`` on cancel."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise TypeError(f"ctx.sleep() takes a number of seconds, got {seconds!r}")
        if math.isnan(seconds):
            raise ValueError("ctx.sleep() takes a number of seconds, got NaN")
        timeout = None if math.isinf(seconds) and seconds > 0 else max(0.0, seconds)
        if self.cancel_event.wait(timeout):
            raise TaskCancelled(self.task_id)

    def report(
        self, progress: float | None = None, message: str | None = None, data: Any = None
    ) -> None:
        """Publish a partial result to the manager; ``data`` travels pickled."""
        self.check()
        if progress is not None:
            try:
                progress = min(1.0, max(0.0, float(progress)))
            except (TypeError, ValueError):
                raise TypeError(f"progress must be a number, got {progress!r}") from None
            if progress != progress:
                raise ValueError("progress must be a number between 0 and 1, got NaN")
        self._seq += 1
        payload = None if data is None else cloudpickle.dumps(data)
        self._send({"seq": self._seq, "p": progress, "m": message, "d": payload})

    def output(self, status: Any, data: Any) -> None:
        """streamlit-octostar-utils' form of ``report(data=data)``."""
        self.report(data=data)

    def _send(self, fields: dict[str, Any]) -> None:
        get_worker().log_event(self._topic, {"k": self._key, **fields})


def run_task(
    fn: Callable[..., Any],
    kwargs: Mapping[str, Any],
    *,
    task_key: str,
    topic: str,
    cancel_name: str,
    task_id: Hashable,
    owner: Hashable,
) -> Returned:
    """Run ``fn(ctx, **kwargs)`` on this worker; a cancel is a value, not an exception.

    ``TaskCancelled`` is a ``BaseException``, which a worker must not see escape a
    task; other ``BaseException`` s become ``RuntimeError`` for the same reason.
    """
    key = task_key
    ctx = WorkerTaskContext(key, topic, task_id, owner)
    ctx._send({"w": get_worker().address})
    done = threading.Event()
    watcher = threading.Thread(
        target=_watch_cancel,
        args=(Event(cancel_name, client=get_client()), ctx.cancel_event, done),
        name=f"taskmgr-cancel-{key}",
        daemon=True,
    )
    watcher.start()
    try:
        return False, fn(ctx, **kwargs), ctx._seq
    except TaskCancelled:
        return True, None, ctx._seq
    except Exception:
        raise
    except BaseException as exc:
        raise RuntimeError(f"the task raised {type(exc).__name__}: {exc}") from None
    finally:
        done.set()


def _watch_cancel(event: Event, cancelled: threading.Event, done: threading.Event) -> None:
    """Turn the manager's ``distributed.Event`` into the task's local event."""
    try:
        while not done.is_set():
            if event.wait(timeout=WATCH_S):
                cancelled.set()
                return
    except Exception:  # the worker is closing: the task ends with it
        return
