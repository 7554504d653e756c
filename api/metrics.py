"""``/metrics`` for Prometheus.

``taskpool_tasks{status}`` and ``taskpool_live_sessions`` are read from the store, so they
count every process (each process that serves ``/metrics`` says the same). The queue
depth, busy workers and the duration histogram belong to this process and carry a
``process`` label: scrape each process (today the API) for its own figures.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api.auth import StateDep
from api.state import ApiState
from taskmgr import TaskStatus

router = APIRouter(tags=["metrics"])


class StoreCollector(Collector):
    """Figures gathered when scraped: nothing to keep up to date in between."""

    def __init__(self, state: ApiState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        tasks = GaugeMetricFamily(
            "taskpool_tasks", "Tasks in the store by status (every process)", labels=["status"]
        )
        counts = state.sql.task_counts() if state.store.available else {}
        for status in TaskStatus:
            tasks.add_metric([status.name], counts.get(status, 0))
        yield tasks
        live = sum(1 for session in state.store.sessions() if session.ended_at is None)
        yield GaugeMetricFamily(
            "taskpool_live_sessions", "Browser sessions not ended (every process)", value=live
        )
        stats = state.manager.stats()
        queued = GaugeMetricFamily(
            "taskpool_queue_depth", "Tasks queued in this process", labels=["process"]
        )
        queued.add_metric(["api"], stats.queued)
        yield queued
        busy = GaugeMetricFamily(
            "taskpool_workers_busy", "Workers running a task in this process", labels=["process"]
        )
        busy.add_metric(["api"], stats.running)
        yield busy


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics(state: StateDep) -> Response:
    registry: CollectorRegistry = state.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
