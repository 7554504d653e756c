"""Durable records (SQLAlchemy 2 + Alembic): SQLite by default, PostgreSQL by URL.

Tasks, sessions, processes and per-owner user state outlive a refresh, a restart and a
crash. ``taskmgr`` and ``sessions`` know nothing of it: the app attaches them to a
``DurableStore`` (listeners), which writes behind a queue. See docs/store.md.
"""

from store.durable import DurableStore, StoreHealth
from store.errors import SchemaTooNew, StoreError, StoreUnavailable, ValueTooLarge
from store.persisted import PersistedValue, persisted_state
from store.protocol import TaskStore
from store.records import ProcessRecord, StoredError, StoredSession, StoredTask
from store.settings import StoreSettings
from store.sql import SqlStore
from store.url import DEFAULT_URL, database_url, mask_url


def get_store() -> DurableStore:
    """The server's store (``st.cache_resource``); imports Streamlit on first use."""
    from store.resource import get_store as cached

    return cached()


__all__ = [
    "DEFAULT_URL",
    "DurableStore",
    "PersistedValue",
    "ProcessRecord",
    "SchemaTooNew",
    "SqlStore",
    "StoreError",
    "StoreHealth",
    "StoreSettings",
    "StoreUnavailable",
    "StoredError",
    "StoredSession",
    "StoredTask",
    "TaskStore",
    "ValueTooLarge",
    "database_url",
    "get_store",
    "mask_url",
    "persisted_state",
]
