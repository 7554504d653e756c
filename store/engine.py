"""Engines set up for several threads and processes on one database.

SQLite: WAL (readers never block the writer), a busy timeout (a second writer waits its
turn instead of failing with "database is locked"), ``synchronous=NORMAL`` (durable at
each checkpoint, and safe against corruption). PostgreSQL: psycopg 3, a short connect
timeout so a lost server is noticed quickly, ``pool_pre_ping`` so a restarted one is
reconnected to.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from store.errors import StoreUnavailable, describe
from store.url import mask_url, parse_url, sqlite_folder

#: How long a SQLite writer waits for another one before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: Seconds to reach a PostgreSQL server before calling it unreachable.
CONNECT_TIMEOUT_S = 3


def make_engine(raw_url: str) -> Engine:
    """An engine for ``raw_url`` (not connected yet); creates a SQLite file's folder."""
    url = parse_url(raw_url)
    if url.get_backend_name() == "sqlite":
        folder = sqlite_folder(url)
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            poolclass=NullPool if url.database in (None, "", ":memory:") else None,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(
        url,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
        pool_pre_ping=True,
        pool_size=4,
        max_overflow=4,
    )


def check_reachable(engine: Engine) -> None:
    """``StoreUnavailable`` naming the URL (password masked) when the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StoreUnavailable(
            f"cannot reach the database at {mask_url(engine.url)}: {describe(exc)}"
        ) from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Python's sqlite3 opens transactions itself; let SQLAlchemy's "begin" event do it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    """Take the write lock when a transaction starts, not half-way through it.

    A deferred transaction that reads and then writes cannot wait for the lock (SQLite
    would deadlock), so it fails with "database is locked" at once, whatever the busy
    timeout; an immediate one waits its turn.
    """
    connection.exec_driver_sql("BEGIN IMMEDIATE")
