"""Exceptions of the task manager's public contract."""

from __future__ import annotations


class TaskCancelled(BaseException):
    """Raised inside a task once its cancellation was requested.

    A BaseException, like asyncio.CancelledError, so that a task's
    ``except Exception`` does not swallow it.
    """


class UnknownTask(KeyError):
    """No task of that id is visible to that owner: never submitted, expired, or not theirs."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown task"


class QueueFull(Exception):
    """The owner already has as many queued tasks as the manager allows."""


class ManagerClosed(RuntimeError):
    """The manager was shut down and takes no new tasks."""
