"""``persisted_state(key, default)``: one value per owner that survives refresh and restart.

``st.session_state`` is emptied by a page refresh and lost with the process; a value
kept here is read back by the owner's next session, on this server or after a
restart. Reads come from memory after the first; writes return at once and reach the
database behind (``store.writer``).
"""

from __future__ import annotations

from typing import Generic, TypeVar

from store.durable import DurableStore

T = TypeVar("T")

#: Longest key accepted (it is part of the table's primary key).
MAX_KEY_LENGTH = 200


class PersistedValue(Generic[T]):
    """A handle on one owner's value: ``.value`` reads it, ``.set(v)`` replaces it."""

    def __init__(self, durable: DurableStore, owner: str, key: str, default: T) -> None:
        self._durable = durable
        self.owner = owner
        self.key = key
        self.default = default

    @property
    def value(self) -> T:
        value: T = self._durable.read_value(self.owner, self.key, self.default)
        return value

    def set(self, value: T) -> None:
        """Keep ``value``: JSON data or a pandas data frame. ``ValueTooLarge`` past
        ``STORE_MAX_VALUE_BYTES``, ``TypeError`` for anything else; either way the
        previous value stays."""
        self._durable.write_value(self.owner, self.key, value)


def persisted_state(
    key: str, default: T, *, owner: str | None = None, durable: DurableStore | None = None
) -> PersistedValue[T]:
    """The value of ``key`` for ``owner`` (this tab's owner token by default).

    Call from a script run when ``owner`` or ``durable`` is left out: they default to
    ``sessions.owner_token()`` and the server's store (``store.get_store()``).
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"persisted_state: the key must be 1 to {MAX_KEY_LENGTH} characters")
    if owner is None:
        from sessions import owner_token

        owner = owner_token()
    if durable is None:
        from store.resource import get_store

        durable = get_store()
    return PersistedValue(durable, owner, key, default)
