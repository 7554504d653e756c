"""How a task's failure is recorded: one log line, a traceback as text, no frames kept.

A task's exception is kept in its snapshot for as long as the result lives, so its
frames (and the task's large locals they hold) are released here first.
"""

from __future__ import annotations

import logging
import traceback

from taskmgr.record import TaskRecord

# The manager's logger: these lines belong to it, and operators filter on its name.
logger = logging.getLogger("taskmgr.manager")


def failure_text(record: TaskRecord, exc: BaseException) -> str:
    """Log a task's failure in one line; return its traceback as text, frames released."""
    try:
        trace = traceback.format_exc()
    except BaseException:
        trace = f"{type(exc).__name__} (its traceback could not be formatted)"
    logger.warning("task %r of owner %r failed: %s", record.task_id, record.owner, _brief(exc))
    _drop_frames(exc)
    return trace


def _brief(exc: BaseException, limit: int = 300) -> str:
    """One short line for the log: an error can carry a whole input in its message."""
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:
        return f"{type(exc).__name__} (its message could not be formatted)"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _drop_frames(exc: BaseException) -> None:
    """Keep the exceptions, not their frames: those can hold a task's large locals alive."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        current.__traceback__ = None
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
