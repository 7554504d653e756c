"""./main.sh as an operator runs it: two replicas behind nginx, a crash and a restart,
SIGTERM. The tests run in order on one stack."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, Response, expect

from store.sql import SqlStore
from taskmgr import TaskStatus
from tests.api.client import client, user_token, wait_status
from tests.app.conftest import (
    ADMIN_PASSWORD,
    LONG_BATCH,
    UI_TIMEOUT_MS,
    VIEWPORT,
    start_job,
    status_line,
    task_card,
)
from tests.support.server import REPO_ROOT
from tests.support.stack import Stack, can_listen
from tests.support.wait import wait_until
from tests.support.ws_client import StreamlitWsClient

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    running = Stack(replicas=2, env={"ADMIN_PASSWORD": ADMIN_PASSWORD})
    try:
        yield running.start()
    finally:
        running.stop()


def test_every_replica_serves_the_app(stack: Stack) -> None:
    for port in stack.streamlit_ports:
        assert httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=10).text == "ok"


def test_the_page_and_its_websocket_work_through_nginx(stack: Stack) -> None:
    page = httpx.get(stack.url + "/", timeout=30)
    assert page.status_code == 200 and "<noscript>" in page.text
    with StreamlitWsClient(f"ws://127.0.0.1:{stack.port}/_stcore/stream") as ws:
        session = ws.open()
        assert session.session_id and session.runs_finished >= 1
        session.close()


def new_page(browser: Browser) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    return context.new_page()


@pytest.mark.browser
def test_the_app_draws_in_a_browser_through_nginx(stack: Stack, browser: Browser) -> None:
    page = new_page(browser)
    page.goto(f"{stack.url}/Jobs")  # drawn only once the websocket through nginx works
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    page.context.close()


@pytest.mark.browser
def test_a_deep_link_through_nginx_makes_no_failing_request(stack: Stack, browser: Browser) -> None:
    """Streamlit's page script, loaded at /Jobs, finds its server at once (no probes of
    /Jobs/_stcore/..., which fail) once the replica has run a page."""
    first = new_page(browser)
    first.goto(f"{stack.url}/")
    expect(first.get_by_role("heading", name="streamlit-taskpool", exact=True)).to_be_visible()
    failed: list[str] = []

    def note(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page = new_page(browser)
    page.context.on("response", note)
    for path, heading in (("Jobs", "Jobs"), ("Admin", "Admin")):
        page.goto(f"{stack.url}/{path}")
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    first.context.close()
    page.context.close()
    assert failed == []


@pytest.mark.browser
def test_a_task_on_one_replica_is_cancelled_from_the_others_admin_page(
    stack: Stack, browser: Browser
) -> None:
    first, second = (f"http://127.0.0.1:{port}" for port in stack.streamlit_ports)
    user = new_page(browser)
    user.goto(f"{first}/Jobs")
    expect(user.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()
    long = start_job(user, "batch_steps", LONG_BATCH)
    expect(status_line(task_card(user, long))).to_contain_text("Running")

    admin = new_page(browser)
    admin.goto(f"{second}/Admin")
    admin.get_by_role("textbox", name="Admin password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.locator(".st-key-admin-store-task-history")).to_contain_text(long)
    admin.get_by_role("button", name="Cancel in its process").click()
    expect(admin.get_by_text(f"Cancel requested for task {long}")).to_be_visible()

    expect(status_line(task_card(user, long))).to_contain_text("Cancelled")
    user.context.close()
    admin.context.close()


@pytest.mark.browser
def test_an_api_task_is_cancelled_from_the_admin_page_through_the_store(
    stack: Stack, browser: Browser
) -> None:
    with client(stack, user_token(stack, "ui")) as user:
        task = user.post("/api/jobs/batch_steps", json={"steps": 900, "step_s": 0.1}).json()
        wait_status(user, task["id"], "IN_PROGRESS")
        admin = new_page(browser)
        admin.goto(f"{stack.url}/Admin")
        admin.get_by_role("textbox", name="Admin password").fill(ADMIN_PASSWORD)
        admin.get_by_role("button", name="Log in").click()
        expect(admin.locator(".st-key-admin-store-task-history")).to_contain_text(task["id"])
        admin.get_by_role("button", name="Cancel in its process").click()
        expect(admin.get_by_text(f"Cancel requested for task {task['id']}")).to_be_visible()
        wait_status(user, task["id"], "CANCELLED")
        admin.context.close()


def test_a_crash_keeps_finished_tasks_and_interrupts_the_running_one(stack: Stack) -> None:
    with client(stack, user_token(stack, "crash")) as user:
        finished = user.post("/api/jobs/monte_carlo_pi", json={"samples": 10_000}).json()
        wait_status(user, finished["id"], "SUCCESS")
        running = user.post("/api/jobs/batch_steps", json={"steps": 900, "step_s": 0.1}).json()
        wait_status(user, running["id"], "IN_PROGRESS")
    database = SqlStore(stack.env["DATABASE_URL"])
    try:

        def both_stored() -> bool:
            done = database.task("api:crash", finished["id"])
            live = database.task("api:crash", running["id"])
            return bool(done and done.status is TaskStatus.SUCCESS and live and not live.is_final)

        wait_until(both_stored, message="both tasks written to the store")
    finally:
        database.close()
    stack.kill_group()
    stack.start()
    with client(stack) as admin:
        token = admin.post("/api/tokens", json={"name": "after"}).json()
        assert token  # the tokens table survived too
    with client(stack, user_token(stack, "crash2")) as other:
        assert other.get(f"/api/tasks/{running['id']}").status_code == 404
    with client(stack) as admin:

        def statuses() -> dict[str, str] | None:
            tasks = {t["id"]: t["status"] for t in admin.get("/api/admin/tasks").json()}
            return tasks if tasks.get(running["id"]) == "INTERRUPTED" else None

        found = wait_until(statuses, message="the running task to become INTERRUPTED")
    assert found[finished["id"]] == "SUCCESS"


def test_sigterm_stops_every_part_and_frees_the_ports(stack: Stack) -> None:
    status = stack.terminate()
    assert status == 0, stack.log_tail()
    wait_until(lambda: not stack.group_alive(), message="every process of the group to exit")
    assert [port for port in stack.ports if not can_listen(port)] == []


def test_a_part_that_cannot_start_is_named_and_the_script_fails() -> None:
    blocked = Stack()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", blocked.api_port))
        taken.listen()
        done = subprocess.run(
            [str(REPO_ROOT / "main.sh")],
            cwd=REPO_ROOT,
            env=blocked.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert f"the API failed to start: port {blocked.api_port} is already in use" in done.stderr
