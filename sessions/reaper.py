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
    """Cancel an owner's tasks once its last session ends; returns a function that stops it.

    "Ends" means past the grace window, so a reload (a new session of the same
    owner, started before the old one ends) or a network blip keeps the tasks.
    A session that registered again under another owner (an app passing
    ``owner=`` once it knows the user) also leaves the owners it had before: they
    are looked at when it ends too. Sessions without an owner (never registered)
    are left alone.
    """
    #: Per live session, the owners it left; listeners run on the tracker thread only,
    #: one at a time, so no lock.
    left: dict[str, set[str]] = {}

    def on_owner_change(info: SessionInfo) -> None:
        if info.owner is not None:
            left.setdefault(info.session_id, set()).add(info.owner)

    def on_end(info: SessionInfo) -> None:
        owners = left.pop(info.session_id, set())
        if info.owner is not None:
            owners.add(info.owner)
        for owner in owners:
            reap(owner, info.session_id)

    def reap(owner: str, session_id: str) -> None:
        if tracker.owner_sessions(owner):
            return
        cancelled = manager.cancel_owner(owner)
        if cancelled:
            logger.info(
                "sessions: cancelled %d task(s) of owner %s…, whose last session %s ended",
                cancelled,
                owner[:6],
                session_id,
            )

    return tracker.add_listener(on_end=on_end, on_owner_change=on_owner_change)
