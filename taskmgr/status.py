"""The life cycle of a task, as a small state machine."""

from __future__ import annotations

from enum import Enum


class TaskStatus(Enum):
    """Where a task is in its life; values of 10 and above are final.

    Names and values match streamlit-octostar-utils so its users can switch by
    changing the import; INTERRUPTED is ours (the process that ran it died).
    """

    INIT = 0
    IN_PROGRESS = 1
    CANCELLING = 2
    SUCCESS = 10
    ERROR = 11
    CANCELLED = 12
    INTERRUPTED = 13

    @property
    def is_final(self) -> bool:
        return self._value_ >= 10  # not .value: this is on every hot path


#: Every transition the manager makes; anything else is a bug.
ALLOWED_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.INIT: frozenset({TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED}),
    TaskStatus.IN_PROGRESS: frozenset(
        {TaskStatus.CANCELLING, TaskStatus.SUCCESS, TaskStatus.ERROR, TaskStatus.CANCELLED}
    ),
    TaskStatus.CANCELLING: frozenset({TaskStatus.CANCELLED}),
    TaskStatus.SUCCESS: frozenset(),
    TaskStatus.ERROR: frozenset(),
    TaskStatus.CANCELLED: frozenset(),
    TaskStatus.INTERRUPTED: frozenset(),
}

#: The same, by name: a str hashes in C, an Enum member in Python (hot path).
NEXT_BY_NAME: dict[str, tuple[TaskStatus, ...]] = {
    status.name: tuple(targets) for status, targets in ALLOWED_TRANSITIONS.items()
}
