"""The operator's broadcast: one message shown on every user's page until it is cleared."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from app import shared

_KEY = "broadcast"
MAX_LENGTH = 500

#: Per owner, the broadcast they closed: a refresh or another tab of the same browser (a
#: new session) must not show it again.
_dismissed: dict[str, str] = {}
_dismissed_lock = threading.Lock()


@dataclass(frozen=True)
class Broadcast:
    id: str
    text: str
    sent_at: float


class BroadcastError(ValueError):
    """The message cannot be sent; the text says why."""


def current() -> Broadcast | None:
    """The message on air; reading it from a page makes the page follow it."""
    value = shared.read(_KEY)
    return value if isinstance(value, Broadcast) else None


def send(text: str) -> Broadcast:
    text = text.strip()
    if not text:
        raise BroadcastError("Write a message first.")
    if len(text) > MAX_LENGTH:
        raise BroadcastError(
            f"Keep the message under {MAX_LENGTH} characters (it has {len(text)})."
        )
    message = Broadcast(uuid.uuid4().hex[:12], text, time.time())
    with _dismissed_lock:
        _dismissed.clear()  # only the message on air can be dismissed
    shared.write(_KEY, message)
    return message


def dismiss(owner: str, message_id: str) -> None:
    with _dismissed_lock:
        _dismissed[owner] = message_id


def is_dismissed(owner: str, message_id: str) -> bool:
    with _dismissed_lock:
        return _dismissed.get(owner) == message_id


def clear() -> None:
    shared.write(_KEY, None)
