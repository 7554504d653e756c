"""Pytest fixtures over the support helpers; ``tests/conftest.py`` imports them.

Real-server fixtures are factories, so a test module can start the server it
needs (its own app and settings) once, at module scope::

    @pytest.fixture(scope="module")
    def server(streamlit_server_factory):
        return streamlit_server_factory(APP, env={"SESSIONS_GRACE_S": "1"})
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.support.browser import chromium_available, launch_chromium
from tests.support.dask_cluster import DaskCluster
from tests.support.server import StreamlitServer

ServerFactory = Callable[..., StreamlitServer]


@pytest.fixture(scope="module")
def streamlit_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerFactory]:
    """Starts ``StreamlitServer``s that stop when the module's tests are done."""
    servers: list[StreamlitServer] = []

    def start(
        app: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> StreamlitServer:
        log_path = tmp_path_factory.mktemp("streamlit") / f"{Path(app).stem}.log"
        server = StreamlitServer(app, env=env, options=options, log_path=log_path)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run; tests open their own pages/contexts."""
    if not chromium_available():
        message = "Chromium is not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(message + "; ./main.sh test installs it when run as root")
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """One real Dask cluster (scheduler + two worker processes) for the whole run."""
    from distributed import Client

    cluster = DaskCluster(tmp_path_factory.mktemp("dask")).start()
    try:
        with Client(cluster.address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield cluster
    finally:
        cluster.stop()
