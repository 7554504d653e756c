"""A real task manager for running jobs, and a recorder of what they publish."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from typing import Any

import pytest

from jobs import get_job
from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus

WAIT_S = 30.0  # generous: CI machines are shared and noisy


class Recorder:
    """Keeps every snapshot a manager publishes; lets a test wait for one it expects."""

    def __init__(self) -> None:
        self.snapshots: list[TaskSnapshot] = []
        self._changed = threading.Condition()

    def __call__(self, snapshot: TaskSnapshot) -> None:
        with self._changed:
            self.snapshots.append(snapshot)
            self._changed.notify_all()

    def wait_for(
        self, predicate: Callable[[TaskSnapshot], bool], timeout: float = WAIT_S
    ) -> TaskSnapshot:
        with self._changed:
            found: list[TaskSnapshot] = []

            def seen() -> bool:
                found[:] = [snap for snap in self.snapshots if predicate(snap)]
                return bool(found)

            assert self._changed.wait_for(seen, timeout), "the expected snapshot never came"
            return found[0]

    def partials(self, task_id: Hashable) -> list[TaskSnapshot]:
        """Running snapshots of that task that carry a partial result, in version order."""
        with self._changed:
            snaps = [
                snap
                for snap in self.snapshots
                if snap.id == task_id
                and snap.status is TaskStatus.IN_PROGRESS
                and snap.data is not None
            ]
        return sorted(snaps, key=lambda snap: snap.version)


@pytest.fixture
def manager() -> Iterator[AsyncTaskManager]:
    mgr = AsyncTaskManager(max_workers=2)
    yield mgr
    mgr.shutdown(wait=True, cancel=True)


@pytest.fixture
def recorder(manager: AsyncTaskManager) -> Iterator[Recorder]:
    rec = Recorder()
    remove = manager.add_listener(rec)
    yield rec
    remove()


def run_job(manager: AsyncTaskManager, key: str, raw: dict[str, Any]) -> TaskSnapshot:
    """Validate, submit and wait for the job as the app does; returns the final snapshot."""
    job = get_job(key)
    manager.submit(key, job.fn, job.validate(raw), name=key)
    return manager.join(key, timeout=WAIT_S)


def start_job(manager: AsyncTaskManager, key: str, raw: dict[str, Any]) -> None:
    job = get_job(key)
    manager.submit(key, job.fn, job.validate(raw), name=key)
