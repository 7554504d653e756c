"""Every store test runs on a real SQLite file and on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from store import DurableStore, SqlStore, StoreSettings
from taskmgr import AsyncTaskManager
from tests.app.conftest import MAIN, SERVER_ENV, separate_users
from tests.support.databases import KINDS, fresh_database
from tests.support.server import StreamlitServer

#: Fast beats, so that death and cancels are noticed within a test's patience.
HEARTBEAT_S = 0.2
DEAD_AFTER_S = 1.0

#: The same for a real app server: a killed one is found dead within seconds.
STORE_ENV = {"STORE_HEARTBEAT_S": "0.5", "STORE_DEAD_AFTER_S": "2"}

DurableFactory = Callable[..., DurableStore]
AppStarter = Callable[[str], StreamlitServer]


@pytest.fixture(params=KINDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with fresh_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture
def sql_store(database_url: str) -> Iterator[SqlStore]:
    store = SqlStore(database_url)
    store.open()
    yield store
    store.close()


@pytest.fixture
def make_durable(database_url: str) -> Iterator[DurableFactory]:
    """Opens DurableStores on the test's database (several: several processes' worth)."""
    made: list[DurableStore] = []

    def make(**overrides: object) -> DurableStore:
        settings = StoreSettings(
            url=database_url, heartbeat_s=HEARTBEAT_S, dead_after_s=DEAD_AFTER_S
        )
        for name, value in overrides.items():
            settings = StoreSettings(**{**settings.__dict__, name: value})
        durable = DurableStore(settings)
        durable.open()
        made.append(durable.start())
        return durable

    yield make
    for durable in made:
        durable.close()


@pytest.fixture
def manager() -> Iterator[AsyncTaskManager]:
    with AsyncTaskManager(max_workers=4) as manager:
        yield manager


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[AppStarter]:
    """Starts the real app (``streamlit run``) on a database URL; stops them afterwards
    (a test may have killed one already)."""
    servers: list[StreamlitServer] = []

    def start(url: str) -> StreamlitServer:
        env: Mapping[str, str] = {**SERVER_ENV, **STORE_ENV, "DATABASE_URL": url}
        log = tmp_path / f"streamlit-{len(servers)}.log"
        server = StreamlitServer(MAIN, env=env, log_path=log)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[], Page]]:
    """Opens pages, each in a browser context of its own (its own cookies: another user)."""
    with separate_users(browser) as open_new:
        yield open_new
