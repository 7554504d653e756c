"""Which database: ``DATABASE_URL`` (environment, then secrets), SQLite by default."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from store.errors import StoreError
from taskmgr.settings import read_setting

#: One file next to the app, nothing to install.
DEFAULT_URL = "sqlite:///data/app.db"


def database_url() -> str:
    """The configured URL; a bare ``postgresql://`` gets the psycopg 3 driver."""
    raw = read_setting("DATABASE_URL", DEFAULT_URL, str).strip()
    if raw.startswith("postgresql://") or raw.startswith("postgres://"):
        raw = "postgresql+psycopg://" + raw.split("://", 1)[1]
    return raw


def parse_url(raw: str) -> URL:
    """The URL as SQLAlchemy reads it; ``StoreError`` naming it (masked) when malformed."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise StoreError(
            f"DATABASE_URL {mask_url(raw)!r} is not a database URL; expected e.g. "
            "sqlite:///data/app.db or postgresql+psycopg://user:password@host/dbname"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"DATABASE_URL {mask_url(raw)!r}: only sqlite and postgresql are supported"
        )
    return url


def mask_url(raw: str | URL) -> str:
    """The URL with its password replaced by ``***``: safe for messages and logs."""
    if isinstance(raw, URL):
        return raw.render_as_string(hide_password=True)
    try:
        return make_url(raw).render_as_string(hide_password=True)
    except ArgumentError:
        scheme, sep, rest = raw.partition("://")
        if not sep or "@" not in rest:
            return raw
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"


def sqlite_folder(url: URL) -> Path | None:
    """The folder a SQLite file lives in (created at start), None for memory or other kinds."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database or "").parent
