"""The differential suite's fixture: every scenario runs on octostar 0.9.16 and on ours.

``impl`` is parametrized over both implementations. Tests assert the same behaviour
on both, except the differences docs/compat.md lists, where they assert octostar's
(broken) behaviour and ours. octostar's workers are non-daemon threads: every
manager a test makes is stopped at teardown, with a deadline, and octostar calls
that can block for ever run on daemon threads (``run_bounded``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from streamlit_octostar_utils.threading.async_task_manager import (
    AsyncTaskManager as OctostarManager,
)

from taskmgr.compat import AsyncTaskManager as CompatManager

WAIT_S = 30.0  # generous: CI machines are shared and noisy
#: How long a test watches for something that must NOT happen (a blocked call returning).
WATCH_S = 1.0


@dataclass
class Impl:
    """One implementation under test and the managers a test made with it."""

    name: str
    cls: Any
    managers: list[Any] = field(default_factory=list)
    releases: list[threading.Event] = field(default_factory=list)

    @property
    def ours(self) -> bool:
        return self.name == "ours"

    def make(self, max_workers: int = 2, **ours_only: Any) -> Any:
        manager = self.cls(max_workers, **ours_only) if self.ours else self.cls(max_workers)
        self.managers.append(manager)
        return manager

    def event(self) -> threading.Event:
        """An event set at teardown at the latest, so no task waits on it for long."""
        event = threading.Event()
        self.releases.append(event)
        return event

    def stop(self) -> list[Bounded]:
        """Release the tasks and stop every manager, without waiting (octostar's workers
        take up to a second to notice): ``stopped_managers`` waits at the module's end."""
        for event in self.releases:
            event.set()
        return [
            run_bounded(lambda m=manager: (m.cancel_all(), m.join_all()), 0)
            for manager in self.managers
        ]


@dataclass
class Bounded:
    """What a call run on a daemon thread did by its deadline."""

    done: bool
    value: Any = None
    error: BaseException | None = None
    finished: threading.Event = field(default_factory=threading.Event)


def run_bounded(fn: Callable[[], Any], timeout: float) -> Bounded:
    """Call ``fn`` on a daemon thread; wait up to ``timeout`` s for it (a hang stays there)."""
    outcome = Bounded(done=False)

    def call() -> None:
        try:
            outcome.value = fn()
        except BaseException as exc:
            outcome.error = exc
        outcome.finished.set()

    threading.Thread(target=call, daemon=True, name="bounded-call").start()
    outcome.done = timeout > 0 and outcome.finished.wait(timeout)
    return outcome


@pytest.fixture(scope="module")
def stopped_managers() -> Iterator[list[Bounded]]:
    """The managers' stops, checked once the module's tests are done."""
    stops: list[Bounded] = []
    yield stops
    for stop in stops:
        assert stop.finished.wait(WAIT_S), "a manager's join_all did not return"
        assert stop.error is None, stop.error


@pytest.fixture(params=["octostar", "ours"])
def impl(request: pytest.FixtureRequest, stopped_managers: list[Bounded]) -> Iterator[Impl]:
    cls = OctostarManager if request.param == "octostar" else CompatManager
    chosen = Impl(request.param, cls)
    yield chosen
    stopped_managers.extend(chosen.stop())
