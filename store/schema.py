"""The schema's version: migrate to the newest this code knows, refuse a newer one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from store.errors import SchemaTooNew
from store.url import mask_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "store/migrations has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str:
    """Apply every migration not applied yet; returns the revision the database is at.

    Several processes may start at once: migrations run under the database's write lock
    (SQLite) or an advisory lock (PostgreSQL), and a process that finds the work done
    does nothing.
    """
    check_not_newer(engine)
    config = alembic_config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7301301)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return head_revision()


def check_not_newer(engine: Engine) -> None:
    """``SchemaTooNew`` when the database is at a revision this code does not know."""
    found = current_revision(engine)
    if found is None:
        return
    scripts = ScriptDirectory.from_config(alembic_config())
    known = {script.revision for script in scripts.walk_revisions()}
    if found not in known:
        raise SchemaTooNew(
            f"the database at {mask_url(engine.url)} has schema revision {found!r}, newer "
            f"than this version of the app knows (its newest is {head_revision()!r}): "
            "run the newer app, or point DATABASE_URL at another database"
        )
