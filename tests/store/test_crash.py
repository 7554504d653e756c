"""The real app on a real database: a ``kill -9`` loses nothing a user finished, and two
server processes on one database act on each other's tasks. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from store import SqlStore
from taskmgr import TaskStatus
from tests.app.conftest import (
    LONG_BATCH,
    SHORT_BATCH,
    log_in_as_admin,
    open_page,
    owner_of_page,
    start_job,
    status_line,
    task_card,
)
from tests.store.conftest import AppStarter
from tests.support.server import StreamlitServer
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.browser]

ServerStarter = Callable[[], StreamlitServer]


@pytest.fixture
def start_server(database_url: str, start_app: AppStarter) -> ServerStarter:
    """Starts app servers on the test's database; stops (or has killed) them afterwards."""
    return lambda: start_app(database_url)


def kill_hard(server: StreamlitServer) -> None:
    """``kill -9`` the server's whole process group: no atexit, no flush, no goodbye."""
    assert server.pid is not None
    os.killpg(server.pid, signal.SIGKILL)
    wait_until(lambda: server._process is not None and server._process.poll() is not None)


def stored_status(store: SqlStore, owner: str, task_id: str) -> TaskStatus | None:
    task = store.task(owner, task_id)
    return None if task is None else task.status


def test_after_kill_9_results_stay_the_running_job_is_interrupted_and_inputs_restored(
    start_server: ServerStarter, new_page: Callable[[], Page], database_url: str
) -> None:
    store = SqlStore(database_url)
    first = start_server()
    page = open_page(new_page(), first, "Jobs", "Jobs")
    short = start_job(page, "batch_steps", SHORT_BATCH)
    expect(status_line(task_card(page, short))).to_contain_text("Done")
    long = start_job(page, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(page, long))).to_contain_text("Running")
    owner = owner_of_page(page)
    wait_until(lambda: stored_status(store, owner, long) is TaskStatus.IN_PROGRESS)

    kill_hard(first)
    second = start_server()
    page.goto(f"{second.url}/Jobs")  # the browser's cookie carries the owner
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()

    expect(status_line(task_card(page, short))).to_contain_text("Done")
    interrupted = task_card(page, long)
    expect(interrupted).to_contain_text("Interrupted")
    expect(interrupted).to_contain_text("Last progress:")
    page.get_by_role("tab", name="Batch of slow steps").click()
    form = page.locator(".st-key-job-batch_steps")
    for label, value in LONG_BATCH.items():
        expect(form.get_by_role("textbox", name=label, exact=True)).to_have_value(value)

    interrupted.get_by_role("button", name="Run again").click()
    expect(page.get_by_text(f"Task {long} started again as task")).to_be_visible()
    again = page.locator(".st-key-task-batch_steps-3")
    expect(status_line(again)).to_contain_text("Running")
    assert stored_status(store, owner, long) is TaskStatus.INTERRUPTED
    store.close()


def test_a_cancel_on_one_server_reaches_a_task_running_on_another(
    start_server: ServerStarter, new_page: Callable[[], Page], database_url: str
) -> None:
    store = SqlStore(database_url)
    runner, other = start_server(), start_server()
    user = open_page(new_page(), runner, "Jobs", "Jobs")
    long = start_job(user, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(user, long))).to_contain_text("Running")
    owner = owner_of_page(user)
    wait_until(lambda: stored_status(store, owner, long) is TaskStatus.IN_PROGRESS)

    admin = new_page()
    log_in_as_admin(admin, other)
    expect(admin.locator(".st-key-admin-store-task-history")).to_contain_text(long)
    admin.get_by_role("button", name="Cancel in its process").click()
    expect(admin.get_by_text(f"Cancel requested for task {long}")).to_be_visible()

    expect(status_line(task_card(user, long))).to_contain_text("Cancelled")
    wait_until(lambda: stored_status(store, owner, long) is TaskStatus.CANCELLED)
    store.close()


def test_a_task_running_on_another_server_is_seen_ending_without_a_reload(
    start_server: ServerStarter, new_page: Callable[[], Page], database_url: str
) -> None:
    """The page draws a task of another process from the store; it redraws when that
    task ends, as it would for one of its own."""
    store = SqlStore(database_url)
    runner, other = start_server(), start_server()
    here = open_page(new_page(), runner, "Jobs", "Jobs")
    long = start_job(here, "batch_steps", LONG_BATCH)
    owner = owner_of_page(here)
    wait_until(lambda: stored_status(store, owner, long) is TaskStatus.IN_PROGRESS)

    there = open_page(here.context.new_page(), other, "Jobs", "Jobs")  # the same browser
    card = task_card(there, long)
    expect(status_line(card)).to_contain_text("Running")
    task_card(here, long).get_by_role("button", name="Cancel").click()
    expect(status_line(card)).to_contain_text("Cancelled")
    store.close()
