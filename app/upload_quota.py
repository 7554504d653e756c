"""How many bytes of uploads each owner's unfinished tasks hold, against a limit.

An uploaded file lives in memory as its task's parameter until the task ends; without a
limit one user could queue a hundred 100 MB files. The quota is taken before a task is
submitted and given back when its final snapshot goes by (a manager listener).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

from taskmgr import TaskSnapshot
from taskmgr.settings import positive_float, read_setting

_MB = 1024 * 1024
#: Default of ``UPLOADS_MAX_MB_PER_OWNER``.
DEFAULT_MAX_MB_PER_OWNER = 200.0


class UploadQuotaExceeded(ValueError):
    """Taking these bytes would pass the owner's limit; the message says by how much."""


def limit_from_settings() -> int:
    """``UPLOADS_MAX_MB_PER_OWNER`` in bytes."""
    mb = read_setting("UPLOADS_MAX_MB_PER_OWNER", DEFAULT_MAX_MB_PER_OWNER, positive_float)
    return int(mb * _MB)


def megabytes(size: int) -> str:
    """``12.3 MB``."""
    return f"{size / _MB:,.1f} MB"


class UploadQuota:
    """Bytes held per owner and task; thread-safe (listeners run on worker threads)."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._lock = threading.Lock()
        self._held: dict[Hashable, dict[Hashable, int]] = {}

    def take(self, owner: Hashable, task_id: Hashable, size: int) -> None:
        """Hold ``size`` bytes for the task, or raise ``UploadQuotaExceeded``."""
        if size <= 0:
            return
        with self._lock:
            tasks = self._held.setdefault(owner, {})
            held = sum(tasks.values()) - tasks.get(task_id, 0)
            if held + size > self.limit_bytes:
                if not tasks:
                    del self._held[owner]
                raise UploadQuotaExceeded(
                    f"your unfinished tasks already hold {megabytes(held)} of uploads, and "
                    f"this one ({megabytes(size)}) would pass the limit of "
                    f"{megabytes(self.limit_bytes)} per user; wait for some to finish or "
                    "cancel them"
                )
            tasks[task_id] = size

    def give_back(self, owner: Hashable, task_id: Hashable) -> None:
        with self._lock:
            tasks = self._held.get(owner)
            if tasks is None:
                return
            tasks.pop(task_id, None)
            if not tasks:
                del self._held[owner]

    def held(self, owner: Hashable) -> int:
        with self._lock:
            return sum(self._held.get(owner, {}).values())

    def on_snapshot(self, snapshot: TaskSnapshot) -> None:
        """The manager listener: a task that ended gives its bytes back."""
        if snapshot.is_final:
            self.give_back(snapshot.owner, snapshot.id)
