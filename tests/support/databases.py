"""Throw-away databases for the store's tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL comes from ``TEST_DATABASE_URL_PG``, which ``./main.sh test`` sets after
starting a cluster of its own. Without it the PostgreSQL tests fail (they never skip):
a green run means both databases were tested.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

#: The kinds every store test runs on.
KINDS = ("sqlite", "postgresql")
PG_ENV = "TEST_DATABASE_URL_PG"


def postgres_admin_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        raise AssertionError(
            f"{PG_ENV} is not set: run the tests with ./main.sh test, which starts a "
            "throw-away PostgreSQL cluster (or export the URL of one you started)"
        )
    return url


@contextmanager
def fresh_database(kind: str, folder: Path) -> Iterator[str]:
    """The URL of an empty database of ``kind``, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'store.db'}"
        return
    admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield (
            make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def allow_connections(admin: Engine, name: str | None, allowed: bool) -> None:
    """Shut a PostgreSQL database to every client (its open sessions are ended too), or
    open it again: to the store, the database is gone while the server still runs."""
    with admin.connect() as connection:
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {allowed}'))
        if not allowed:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
