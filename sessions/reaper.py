"""The orphan reaper: cancel an owner's tasks once the last session of that owner ENDS."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from sessions.info import SessionInfo
from sessions.tracker import SessionCallbackManager

logger = logging.getLogger(__name__)


class CancelsOwners(Protocol):
    """What the reaper needs of a task manager (``taskmgr.AsyncTaskManager`` has it)."""

    def cancel_owner(self, owner: str) -> int: ...


def reap_orphans(tracker: SessionCallbackManager, manager: CancelsOwners) -> Callable[[], None]:
    """Cancel ``owner``'s tasks when its last session ends; returns a function that stops it.

    "Ends" means past the grace window, so a reload (a new session of the same
    owner, started before the old one ends) or a network blip keeps the tasks.
    Sessions without an owner (never registered) are left alone.
    """

    def on_end(info: SessionInfo) -> None:
        owner = info.owner
        if owner is None or tracker.owner_sessions(owner):
            return
        cancelled = manager.cancel_owner(owner)
        if cancelled:
            logger.info(
                "sessions: cancelled %d task(s) of owner %s…, whose last session %s ended",
                cancelled,
                owner[:6],
                info.session_id,
            )

    return tracker.add_listener(on_end=on_end)
