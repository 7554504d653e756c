"""Migrations: applied at start and by ``python -m store upgrade``; newer schemas refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, inspect, text

from store import SchemaTooNew, SqlStore
from store.schema import current_revision, head_revision
from tests.support.server import REPO_ROOT, free_port


def run_store_command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "store", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_upgrade_command_creates_every_table_and_is_idempotent(database_url: str) -> None:
    first = run_store_command(database_url, "upgrade")
    again = run_store_command(database_url, "upgrade")
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert f"schema revision {head_revision()}" in again.stdout
    engine = create_engine(database_url)
    assert {"tasks", "sessions", "processes", "user_state"} <= set(
        inspect(engine).get_table_names()
    )
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_database_of_a_newer_schema_is_refused(sql_store: SqlStore, database_url: str) -> None:
    with sql_store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d9999'"))
    with pytest.raises(SchemaTooNew, match=r"f00d9999.*newer than this version"):
        SqlStore(database_url).open()
    refused = run_store_command(database_url, "upgrade")
    assert refused.returncode == 1
    assert "f00d9999" in refused.stderr and "newer" in refused.stderr


def test_unreachable_database_exits_non_zero_naming_the_url_without_its_password() -> None:
    url = f"postgresql+psycopg://alice:s3cret-pw@127.0.0.1:{free_port()}/taskpool"
    refused = run_store_command(url, "upgrade")
    assert refused.returncode == 1
    assert "cannot reach the database at postgresql+psycopg://alice:***@127.0.0.1" in (
        refused.stderr
    )
    assert "s3cret-pw" not in refused.stderr + refused.stdout


def test_a_malformed_url_is_named_in_the_message() -> None:
    refused = run_store_command("mysql://root:pw@localhost/x", "check")
    assert refused.returncode == 1
    assert "only sqlite and postgresql are supported" in refused.stderr
    assert ":pw@" not in refused.stderr
