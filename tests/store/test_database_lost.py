"""The real app loses its database while it runs (PostgreSQL: a SQLite file cannot go
away while it is open): pages keep serving from memory, the Admin page says the database
is unreachable, and what was held meanwhile is written when it is back."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from store import SqlStore
from taskmgr import TaskStatus
from tests.app.conftest import (
    SHORT_BATCH,
    log_in_as_admin,
    open_page,
    owner_of_page,
    start_job,
    status_line,
    task_card,
)
from tests.store.conftest import AppStarter
from tests.support.databases import allow_connections, fresh_database, postgres_admin_url
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.browser]

#: Inputs of the job started while the database is away (told apart from SHORT_BATCH).
AWAY_BATCH = {"Steps": "4", "Seconds per step": "0.05"}


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("postgresql", tmp_path) as url:
        yield url


def stored_status(url: str, owner: str, task_id: str) -> TaskStatus | None:
    """Read with a store of the test's own, made afresh (the app's may be cut off)."""
    store = SqlStore(url)
    try:
        task = store.task(owner, task_id)
    finally:
        store.close()
    return None if task is None else task.status


def test_while_the_database_is_lost_pages_serve_from_memory_and_held_writes_land_after(
    pg_url: str, start_app: AppStarter, new_page: Callable[[], Page]
) -> None:
    server = start_app(pg_url)
    user = open_page(new_page(), server, "Jobs", "Jobs")
    before = start_job(user, "batch_steps", SHORT_BATCH)
    expect(status_line(task_card(user, before))).to_contain_text("Done")
    owner = owner_of_page(user)
    wait_until(lambda: stored_status(pg_url, owner, before) is TaskStatus.SUCCESS)

    admin = new_page()
    log_in_as_admin(admin, server)
    health = admin.locator(".st-key-admin-store-health")
    expect(health).to_contain_text("Connected to")

    name = make_url(pg_url).database
    superuser = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        allow_connections(superuser, name, False)
        expect(health).to_contain_text("is unreachable")
        expect(health).to_contain_text("keeps serving from memory")

        away = start_job(user, "batch_steps", AWAY_BATCH)
        expect(status_line(task_card(user, away))).to_contain_text("Done")
        expect(status_line(task_card(user, before))).to_contain_text("Done")
        expect(health).to_contain_text("is unreachable")
    finally:
        allow_connections(superuser, name, True)
        superuser.dispose()

    expect(health).to_contain_text("Connected to")
    wait_until(
        lambda: stored_status(pg_url, owner, away) is TaskStatus.SUCCESS,
        message="the task finished while the database was away to be written",
    )
    store = SqlStore(pg_url)
    try:
        stored = store.task(owner, away)
        assert stored is not None and stored.params is not None
        assert (stored.params["steps"], stored.params["step_s"]) == (4, 0.05)
        saved = store.get_value(owner, "jobs.inputs.batch_steps")  # the form's inputs
        assert saved is not None
        assert json.loads(saved[1]) == {"steps": "4", "step_s": "0.05", "fail_at": "0"}
    finally:
        store.close()
    user.reload()
    expect(status_line(task_card(user, away))).to_contain_text("Done")
