"""The seam between the manager and whatever runs its work.

The manager keeps the queue, the fair order, the caps and every status; a runner
only runs what it is handed, and is handed work only when a slot is free, so it
never queues. Plain tasks go to a ``TaskRunner`` (threads today, a Dask cluster
later), ``async def`` tasks to a ``CoroutineRunner`` (an event loop). A backend
implements these few methods and nothing else changes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from taskmgr.snapshot import LoopHealth

if TYPE_CHECKING:
    from taskmgr.context import TaskContext

#: One coroutine task's work: the manager's wrapper, which awaits the job and settles it.
CoroutineWork = Callable[[], Coroutine[Any, Any, None]]
#: Interrupts a coroutine at its next await; thread-safe, idempotent, never raises.
CancelWork = Callable[[], None]


class TaskRunner(Protocol):
    """Runs work items concurrently, up to ``max_workers`` at once."""

    max_workers: int

    def start(self, work: Callable[[], None]) -> None:
        """Begin ``work`` on a free worker now; must not block."""

    def shutdown(self, wait: bool) -> None:
        """Release the workers; with ``wait``, after the work started so far ends."""


class CoroutineRunner(Protocol):
    """Runs coroutine work items concurrently, up to ``max_async`` at once.

    ``work`` always runs to its end, even when cancelled before its first step: a
    cancel only interrupts the job it awaits, so the manager always learns the outcome.
    """

    max_async: int

    def start(self, work: CoroutineWork, label: Callable[[], str]) -> CancelWork:
        """Schedule ``work`` now (must not block); ``label()`` names it in ``health()``
        (called only then: most work is never named)."""

    async def call(
        self, fn: Callable[..., Awaitable[Any]], ctx: TaskContext, kwargs: Mapping[str, Any]
    ) -> Any:
        """Await the job itself (``work`` does so through here): on this loop, or, for a
        distributed runner, on a worker, awaiting its future."""

    def shutdown(self, wait: bool) -> None:
        """Stop once the work started so far has ended; with ``wait``, until then."""

    def health(self) -> LoopHealth:
        """Whether the loop answers promptly, and which task held it if not."""
