"""Twenty tabs on the Jobs page of a real server, over Streamlit's websocket protocol.

Each tab behaves like a browser's (tests/support/ws_tab.py): it sends the cookie the
server issued to its browser, and reruns the page's polling fragment on the timer the
page asks for. Nothing here is timed: the checks are that every tab is its own user with
its own job, keeps receiving updates while its job runs, and that the page stops asking
for them once the job has ended.
"""

from __future__ import annotations

import pytest

from tests.app.conftest import MAIN, SERVER_ENV
from tests.support.fixtures import ServerFactory
from tests.support.wait import wait_until
from tests.support.ws_client import Browser, StreamlitWsClient
from tests.support.ws_tab import LiveTab, open_tabs, submit_all

TABS = 20
#: About eight seconds of steps (each between half and one and a half seconds).
JOB_FORM = {"job-batch_steps-steps": "8", "job-batch_steps-step_s": "1"}
#: Task ids count per owner: an owner's first batch job is this one.
FIRST_TASK = "batch_steps-1"


def _task_titles(tab: LiveTab) -> list[str]:
    return [text for text in tab.page_texts if "batch_steps-" in text]


def _progress_lines(tab: LiveTab) -> set[str]:
    return {text for text in tab.progress_texts if text.startswith("Running")}


def _ended(tab: LiveTab) -> bool:
    return not tab.polling and any(alert.startswith("Done") for alert in tab.alerts)


@pytest.mark.server
@pytest.mark.timeout(240)
def test_every_tab_updates_while_its_job_runs_and_stops_polling_when_it_ends(
    streamlit_server_factory: ServerFactory,
) -> None:
    server = streamlit_server_factory(MAIN, env={**SERVER_ENV, "TASKMGR_MAX_WORKERS": "24"})
    with StreamlitWsClient(server.ws_url) as client:
        tabs = open_tabs(client, TABS, page="Jobs", timeout=120)
        assert not any(tab.polling for tab in tabs), "an idle Jobs page set a refresh timer"

        submit_all(client, tabs, "start-batch_steps", JOB_FORM, timeout=120)
        assert all(tab.polling for tab in tabs)
        # Twenty browsers, twenty owners: each tab shows its own first task and no other.
        titles = [_task_titles(tab) for tab in tabs]
        assert all(len(seen) == 1 and FIRST_TASK in seen[0] for seen in titles), titles
        wait_until(
            lambda: all(len(_progress_lines(tab)) >= 3 for tab in tabs),
            timeout=120,
            message=lambda: (
                "three different progress lines in every tab; seen: "
                + str(sorted(len(_progress_lines(tab)) for tab in tabs))
            ),
        )

        # A full run drops the timers as it starts and shows the outcome as it ends.
        wait_until(
            lambda: all(_ended(tab) for tab in tabs),
            timeout=120,
            message=lambda: (
                f"every tab to show Done and stop polling; "
                f"{sum(not _ended(t) for t in tabs)} have not"
            ),
        )
        assert all(len(tab.updates) >= 3 for tab in tabs)


@pytest.mark.server
@pytest.mark.timeout(120)
def test_a_second_tab_of_the_same_browser_is_the_same_owner(
    streamlit_server_factory: ServerFactory,
) -> None:
    server = streamlit_server_factory(MAIN, env=SERVER_ENV)
    with StreamlitWsClient(server.ws_url) as client:
        browser = Browser.fetch(server.ws_url)
        first = open_tabs(client, 1, page="Jobs", browsers=[browser], timeout=60)[0]
        first.submit("start-batch_steps", {**JOB_FORM, "job-batch_steps-steps": "1000"}, 60)

        second, stranger = open_tabs(
            client, 2, page="Jobs", browsers=[browser, Browser.fetch(server.ws_url)], timeout=60
        )
        assert [FIRST_TASK in text for text in _task_titles(second)] == [True]
        assert second.polling, "the other tab of the browser does not follow the running job"
        assert _task_titles(stranger) == [] and not stranger.polling
