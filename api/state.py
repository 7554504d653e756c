"""What the API's routes share: the process's task manager, its store link, the tokens."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry

from api.settings import ApiSettings
from api.task_metrics import TaskDurations
from store import DurableStore
from store.sql import SqlStore
from store.tokens import TokenRegistry
from taskmgr import AsyncTaskManager


@dataclass(frozen=True)
class ApiState:
    settings: ApiSettings
    manager: AsyncTaskManager
    store: DurableStore
    tokens: TokenRegistry
    durations: TaskDurations
    registry: CollectorRegistry

    @property
    def sql(self) -> SqlStore:
        backend = self.store.backend
        assert isinstance(backend, SqlStore), "the API needs the SQL store"
        return backend


def api_state(request: Request) -> ApiState:
    """The state ``create_app`` put on the app (a FastAPI dependency)."""
    state: ApiState = request.app.state.api
    return state
