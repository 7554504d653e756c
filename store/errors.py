"""What can go wrong with the store, each with a message that says what to do."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """The database cannot be reached; the message names the URL with its password masked."""


class SchemaTooNew(StoreError):
    """The database was migrated by a newer version of the app than this one."""


class ValueTooLarge(StoreError, ValueError):
    """A value is over the size the store accepts; the message gives both sizes."""


def describe(exc: BaseException) -> str:
    """One line for a database error: the driver's own error when there is one."""
    orig = getattr(exc, "orig", None)
    cause = orig if isinstance(orig, BaseException) else exc
    text = str(cause).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(cause).__name__}: {first}" if first else type(cause).__name__
