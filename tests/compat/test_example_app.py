"""examples/octostar_app.py runs on octostar 0.9.16 and on ours, only its two imports changed."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fixtures import ServerFactory
from tests.support.server import REPO_ROOT, StreamlitServer
from tests.support.wait import wait_until
from tests.support.ws_client import StreamlitWsClient, WsSession

pytestmark = pytest.mark.server

EXAMPLE = REPO_ROOT / "examples" / "octostar_app.py"
OCTOSTAR_IMPORTS = {
    "from sessions.compat import SessionCallbackManager": (
        "from streamlit_octostar_utils.threading.session_callback_manager "
        "import SessionCallbackManager"
    ),
    "from taskmgr.compat import AsyncTaskManager": (
        "from streamlit_octostar_utils.threading.async_task_manager import AsyncTaskManager"
    ),
}


def octostar_variant(directory: Path) -> Path:
    """The example with octostar's imports, and nothing else changed."""
    ours = EXAMPLE.read_text().splitlines()
    theirs = [OCTOSTAR_IMPORTS.get(line, line) for line in ours]
    changed = [line for line in difflib.unified_diff(ours, theirs, lineterm="", n=0)]
    assert len([line for line in changed if line.startswith("+from")]) == 2, changed
    assert len([line for line in changed if line.startswith("-from")]) == 2, changed
    path = directory / "octostar_app.py"
    path.write_text("\n".join(theirs) + "\n")
    return path


@pytest.fixture(scope="module")
def servers() -> dict[str, StreamlitServer]:
    """One server per implementation for the module, started on first use."""
    return {}


@pytest.fixture(params=["octostar", "ours"])
def client(
    request: pytest.FixtureRequest,
    servers: dict[str, StreamlitServer],
    streamlit_server_factory: ServerFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[StreamlitWsClient]:
    name = str(request.param)
    if name not in servers:
        app = EXAMPLE if name == "ours" else octostar_variant(tmp_path_factory.mktemp(name))
        servers[name] = streamlit_server_factory(app, env={"SESSIONS_GRACE_S": "2"})
    with StreamlitWsClient(servers[name].ws_url) as ws_client:
        yield ws_client


def shown(session: WsSession, key: str) -> str | None:
    for text in session.texts:
        name, _, value = text.partition("=")
        if name == key:
            return value
    return None


def rerun_until(session: WsSession, key: str, starts: str, query: str | None = None) -> str:
    """Rerun the page (as its Refresh button does) until ``key`` shows ``starts...``."""

    def check() -> str | None:
        session.rerun(query)
        value = shown(session, key)
        return value if value is not None and value.startswith(starts) else None

    return wait_until(check, interval=0.2, message=lambda: f"{key}={starts}...: {session.texts}")


def test_the_example_runs_its_tasks_and_cancels_them(client: StreamlitWsClient) -> None:
    session = client.open("run=words&text=to+be+or+not+to+be")
    assert session.texts[0].startswith("Welcome, session"), session.texts
    assert session.query_string == ""  # the deep link acted once
    words = rerun_until(session, "words", "SUCCESS")
    assert words == "SUCCESS {'to': 2, 'be': 2, 'or': 1, 'not': 1}"

    session.rerun("run=sum&n=100000")
    rerun_until(session, "sum", "IN_PROGRESS {")
    session.rerun("cancel=sum")
    rerun_until(session, "sum", "CANCELLED {")


def test_a_closed_tab_has_its_tasks_cancelled(client: StreamlitWsClient) -> None:
    leaving = client.open("run=sum&n=100000")
    task_id = shown(leaving, "sum_id")
    assert task_id is not None
    leaving.close()
    watcher = client.open(f"lookup={task_id}")
    rerun_until(watcher, "lookup", "CANCELLED")
