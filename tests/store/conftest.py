"""Every store test runs on a real SQLite file and on a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from store import DurableStore, SqlStore, StoreSettings
from taskmgr import AsyncTaskManager
from tests.support.databases import KINDS, fresh_database

#: Fast beats, so that death and cancels are noticed within a test's patience.
HEARTBEAT_S = 0.2
DEAD_AFTER_S = 1.0

DurableFactory = Callable[..., DurableStore]


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
