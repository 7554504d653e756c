"""The process-wide store, created once per server with ``st.cache_resource``."""

from __future__ import annotations

import logging

import streamlit as st

from store.durable import DurableStore
from store.errors import SchemaTooNew, describe
from store.settings import StoreSettings

logger = logging.getLogger(__name__)


def _release(durable: DurableStore) -> None:
    durable.close()


@st.cache_resource(show_spinner=False, on_release=_release)
def get_store() -> DurableStore:
    """This server's store, beating in the background; configured by ``DATABASE_URL``.

    It is opened (migrated) once, here, so the first pages already read what an earlier
    run of the server left. A database that is away is not fatal: the pages serve from
    memory, the Admin page says so, and the heartbeat joins the database when it is back.
    """
    durable = DurableStore(StoreSettings.from_env())
    try:
        durable.open()
    except SchemaTooNew as exc:
        logger.error("store: %s; serving from memory only", exc)
    except Exception as exc:  # away: the heartbeat keeps trying
        logger.error("store: %s; serving from memory until the database is back", describe(exc))
    return durable.start()
