"""The app under `streamlit run` with TASKMGR_BACKEND=dask: jobs run on worker processes
of a local cluster, report progress and cancel, the Admin page links the cluster's
dashboard (served from this machine), and a worker restart never runs the page."""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator

import httpx
import psutil
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.app.conftest import (
    LONG_BATCH,
    MAIN,
    SERVER_ENV,
    SHORT_BATCH,
    UI_TIMEOUT_MS,
    VIEWPORT,
    UserFactory,
    log_in_as_admin,
    no_traceback,
    start_job,
    status_line,
    task_card,
)
from tests.app.test_first_run import NOISE
from tests.support.fixtures import ServerFactory
from tests.support.outside import block_outside_requests
from tests.support.server import StreamlitServer
from tests.support.wait import wait_until

pytestmark = [pytest.mark.server, pytest.mark.browser, pytest.mark.timeout(300)]
CLUSTER_START_MS = 150_000


@pytest.fixture(scope="module")
def app_server(streamlit_server_factory: ServerFactory) -> Iterator[StreamlitServer]:
    env = {**SERVER_ENV, "TASKMGR_BACKEND": "dask", "TASKMGR_MAX_WORKERS": "2"}
    env.pop("DASK_SCHEDULER", None)
    yield streamlit_server_factory(MAIN, env=env)


def open_jobs(page: Page, server: StreamlitServer) -> Page:
    """The Jobs page; the first script run also starts the cluster: minutes on a busy CI."""
    page.goto(f"{server.url}/Jobs")
    heading = page.get_by_role("heading", name="Jobs", exact=True)
    expect(heading).to_be_visible(timeout=CLUSTER_START_MS)
    return page


def descendants(server: StreamlitServer) -> dict[int, str]:
    """The server's live descendant processes and their command lines."""
    assert server.pid is not None
    found = {}
    for process in psutil.Process(server.pid).children(recursive=True):
        try:
            found[process.pid] = " ".join(process.cmdline())
        except psutil.Error:  # gone, or a zombie, since it was listed
            continue
    return found


def dask_workers(server: StreamlitServer) -> set[int]:
    """Worker processes: the nanny starts each with multiprocessing's spawn."""
    return {pid for pid, cmd in descendants(server).items() if "spawn_main" in cmd}


def page_runners(server: StreamlitServer) -> list[str]:
    """Descendants that would run the page script: there must be none."""
    return [cmd for cmd in descendants(server).values() if "streamlit" in cmd]


def test_a_job_runs_on_a_worker_shows_progress_and_cancels(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_jobs(new_user(), app_server)
    task_id = start_job(page, "batch_steps", LONG_BATCH)
    card = task_card(page, task_id)
    expect(status_line(card)).to_contain_text("Running")
    expect(status_line(card)).to_contain_text("step")  # a report from the worker
    assert dask_workers(app_server), "no Dask worker process under the server"

    card.get_by_role("button", name="Cancel").click()

    expect(status_line(card)).to_contain_text("Cancelled")
    no_traceback(page)


def test_the_admin_page_links_the_dask_dashboard_which_is_served_from_here(
    browser: Browser, app_server: StreamlitServer
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(UI_TIMEOUT_MS)
    outside = block_outside_requests(context)
    try:
        admin = open_jobs(context.new_page(), app_server)  # the cluster is up
        log_in_as_admin(admin, app_server)
        link = admin.get_by_role("link", name=re.compile("Dask dashboard"))
        expect(link).to_be_visible()
        href = link.get_attribute("href") or ""
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/status", href), href

        answer = httpx.get(href, timeout=30)
        assert answer.status_code == 200 and "Dask" in answer.text

        dashboard = context.new_page()
        dashboard.goto(href)
        expect(dashboard).to_have_title(re.compile("Dask"))
        dashboard.wait_for_function("() => window.Bokeh !== undefined")  # BokehJS loaded
    finally:
        context.close()

    assert outside == [], f"requests left the machine: {outside}"
    noise = [line for line in app_server.log_tail(400).splitlines() if NOISE.search(line)]
    assert noise == [], "\n".join(noise)


def test_a_worker_restart_never_runs_the_page(
    new_user: UserFactory, app_server: StreamlitServer
) -> None:
    page = open_jobs(new_user(), app_server)
    before = dask_workers(app_server)
    assert before
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: len(dask_workers(app_server) - before) >= len(before),
        timeout=90,
        message="the killed workers to be started again",
    )
    assert page_runners(app_server) == []
    task_id = start_job(page, "batch_steps", SHORT_BATCH)
    expect(status_line(task_card(page, task_id))).to_contain_text("Done")
    assert page_runners(app_server) == []
    no_traceback(page)
