"""The FastAPI app: the routers, and the process's manager and store link for its life."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from api.metrics import StoreCollector
from api.metrics import router as metrics_router
from api.routers import admin, health, jobs, tasks, tokens
from api.settings import ApiSettings
from api.state import ApiState
from api.task_metrics import TaskDurations
from store import DurableStore, StoreSettings
from store.sql import SqlStore
from store.tokens import TokenRegistry
from taskmgr.resource import manager_from_settings

logger = logging.getLogger(__name__)


def open_state() -> ApiState:
    """This process's manager, attached to its own link to the store (``kind="api"``)."""
    store = DurableStore(StoreSettings.from_env(), kind="api")
    store.open()
    store.start()
    backend = store.backend
    assert isinstance(backend, SqlStore)
    manager = manager_from_settings()
    store.attach_manager(manager)
    registry = CollectorRegistry()
    durations = TaskDurations(registry)
    manager.add_listener(durations.observe)
    state = ApiState(
        settings=ApiSettings.from_env(),
        manager=manager,
        store=store,
        tokens=TokenRegistry(backend.engine),
        durations=durations,
        registry=registry,
    )
    registry.register(StoreCollector(state))
    return state


def close_state(state: ApiState) -> None:
    state.manager.shutdown(wait=True, cancel=True)
    state.store.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state = open_state()
    if not state.settings.admin_token:
        logger.warning("api: API_TOKEN is not set: admin routes refuse every token")
    app.state.api = state
    try:
        yield
    finally:
        close_state(state)


def create_app() -> FastAPI:
    app = FastAPI(
        title="streamlit-taskpool",
        summary="The app's jobs over HTTP: submit, watch, cancel.",
        version="1",
        lifespan=lifespan,
    )
    for module in (health, jobs, tasks, admin, tokens):
        app.include_router(module.router)
    app.include_router(metrics_router)
    return app
