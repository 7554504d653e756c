"""Two Streamlit replicas behind nginx (./main.sh) sharing one external Dask cluster and
one store: each user, routed to a replica of their own by nginx, sees only their own
tasks, both replicas' tasks run on the one cluster, and the Admin page of either
replica sees every task (and cancels one that runs on the other)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psutil
import pytest
from distributed import Client
from playwright.sync_api import Browser, Page, expect

from app.admin_tables import owner_label
from store.records import StoredTask
from store.sql import SqlStore
from taskmgr import TaskStatus
from tests.app.conftest import ADMIN_PASSWORD, LONG_BATCH, UI_TIMEOUT_MS, VIEWPORT
from tests.support.dask_cluster import DaskCluster
from tests.support.stack import Stack
from tests.support.wait import wait_until
from tests.support.ws_client import StreamlitWsClient
from tests.support.ws_tab import LiveTab, open_tabs

pytestmark = [pytest.mark.server, pytest.mark.timeout(420)]

#: Client addresses to try: nginx's ip_hash keys on the first three octets.
SOURCES = [f"127.0.{n}.1" for n in range(1, 25)]
JOB_FORM = {
    "job-batch_steps-steps": LONG_BATCH["Steps"],
    "job-batch_steps-step_s": LONG_BATCH["Seconds per step"],
}


@pytest.fixture(scope="module")
def stack(dask_cluster: DaskCluster) -> Iterator[Stack]:
    running = Stack(
        replicas=2,
        env={
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "TASKMGR_BACKEND": "dask",
            "DASK_SCHEDULER": dask_cluster.address,
            "TASKMGR_MAX_WORKERS": "2",
            "SESSIONS_HEARTBEAT_S": "1",
        },
    )
    try:
        yield running.start(timeout=240)
    finally:
        running.stop()


@pytest.fixture(scope="module")
def database(stack: Stack) -> Iterator[SqlStore]:
    opened = SqlStore(stack.env["DATABASE_URL"])
    try:
        yield opened
    finally:
        opened.close()


@dataclass
class User:
    """A browser tab on the Jobs page, reaching nginx from an address of its own, with the
    task it started and the replica (the store's process id) that runs it."""

    client: StreamlitWsClient
    tab: LiveTab
    source: str
    task_id: str = ""
    owner: str = ""
    process_id: str = ""

    def own_task_ids(self) -> set[str]:
        """Tasks whose Cancel button the page has drawn for this user."""
        return {
            widget.rsplit("-cancel-", 1)[1] for widget in self.tab.widgets if "-cancel-" in widget
        }

    def cancel(self) -> None:
        self.tab.submit(f"cancel-{self.task_id}", {}, timeout=60)


def open_user(stack: Stack, database: SqlStore, source: str, others: list[User]) -> User:
    """A tab from ``source`` through nginx that starts a long job; the replica running it,
    from the store. Task ids are per owner (every user's first is ``batch_steps-1``): the
    new task is the one of an owner none of ``others`` has."""
    client = StreamlitWsClient(f"ws://127.0.0.1:{stack.port}/_stcore/stream", source_address=source)
    user = User(client, open_tabs(client, 1, page="Jobs", timeout=120)[0], source)
    user.tab.submit("start-batch_steps", JOB_FORM, timeout=120)
    (user.task_id,) = wait_until(user.own_task_ids, timeout=60, message="the new task's card")

    known = {other.owner for other in others}

    def running() -> StoredTask | None:
        found = [t for t in database.tasks() if t.task_id == user.task_id]
        found = [t for t in found if t.owner not in known]
        return found[0] if found and found[0].status is TaskStatus.IN_PROGRESS else None

    stored = wait_until(running, timeout=120, message=f"task {user.task_id} running")
    user.owner, user.process_id = stored.owner, stored.process_id
    return user


@pytest.fixture(scope="module")
def users(stack: Stack, database: SqlStore) -> Iterator[tuple[User, User]]:
    """Two users whom nginx routes to different replicas, each with a task running."""
    opened: list[User] = []
    try:
        first = open_user(stack, database, SOURCES[0], opened)
        opened.append(first)
        for source in SOURCES[1:]:
            other = open_user(stack, database, source, opened)
            opened.append(other)
            if other.process_id != first.process_id:
                yield first, other
                return
            other.cancel()
        raise AssertionError(f"nginx sent every address of {SOURCES} to one replica")
    finally:
        for user in opened:
            user.client.shutdown()


def admin_page(browser: Browser, url: str) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    page = context.new_page()
    page.goto(f"{url}/Admin")
    page.get_by_role("textbox", name="Admin password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    return page


@pytest.mark.browser
def test_two_replicas_share_the_cluster_users_see_their_own_tasks_admins_see_all(
    stack: Stack,
    database: SqlStore,
    dask_cluster: DaskCluster,
    users: tuple[User, User],
    browser: Browser,
) -> None:
    first, second = users

    # Each replica runs its own user's task, and each user's page shows only theirs.
    assert first.owner != second.owner
    for user in users:
        wait_until(
            lambda user=user: any(t.startswith("Running") for t in user.tab.progress_texts),
            timeout=60,
            message="progress reported from the Dask worker",
        )
    assert first.own_task_ids() == {first.task_id}
    assert second.own_task_ids() == {second.task_id}

    # Both run on the one cluster, each for the Dask client of its own replica.
    def wants_per_client(dask_scheduler: Any) -> dict[str, int]:
        """On the scheduler (sent by value): processing tasks per Dask client."""
        counts: dict[str, int] = {}
        for state in dask_scheduler.tasks.values():
            if state.state == "processing":
                for client in state.who_wants:
                    counts[client.client_key] = counts.get(client.client_key, 0) + 1
        return counts

    with Client(dask_cluster.address, set_as_default=False) as dask:
        seen: list[dict[str, int]] = []

        def one_task_for_each_of_two_clients() -> bool:
            seen.append(dask.run_on_scheduler(wants_per_client))
            return sorted(seen[-1].values()) == [1, 1]

        wait_until(
            one_task_for_each_of_two_clients,
            timeout=60,
            interval=0.5,
            message=lambda: f"one task processing for each of two Dask clients; saw {seen[-1]}",
        )

    # The Admin page of either replica lists both tasks.
    pages = [admin_page(browser, f"http://127.0.0.1:{port}") for port in stack.streamlit_ports]
    try:
        for page in pages:
            history = page.locator(".st-key-admin-store-task-history")
            expect(history).to_contain_text(owner_label(first.owner))
            expect(history).to_contain_text(owner_label(second.owner))

        # ...and cancels a task that runs in the other replica, on the cluster.
        admin = next(
            page
            for page, port in zip(pages, stack.streamlit_ports, strict=True)
            if not _serves(database, port, second.process_id)
        )
        picker = admin.get_by_role("combobox", name="Task in any process")
        picker.click()
        picker.press_sequentially(owner_label(second.owner))  # typing filters the options
        admin.get_by_role("option", name=f"owner {owner_label(second.owner)}").click()
        admin.get_by_role("button", name="Cancel in its process").click()
        expect(admin.get_by_text(f"Cancel requested for task {second.task_id}")).to_be_visible()
    finally:
        for page in pages:
            page.context.close()

    wait_until(
        lambda: any(alert.startswith("Cancelled") for alert in second.tab.alerts),
        timeout=60,
        message=lambda: f"the second user's page to show Cancelled; alerts {second.tab.alerts}",
    )
    untouched = database.task(first.owner, first.task_id)
    assert untouched is not None and untouched.status is TaskStatus.IN_PROGRESS
    first.cancel()


def _serves(database: SqlStore, port: int, process_id: str) -> bool:
    """Whether the replica on ``port`` is the store's process ``process_id``."""
    process = next(p for p in database.processes() if p.id == process_id)
    try:
        command = psutil.Process(process.pid).cmdline()
    except psutil.Error:
        return False
    return str(port) in command
