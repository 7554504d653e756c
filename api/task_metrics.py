"""The task duration histogram, fed by this process's manager (a listener)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

from taskmgr import TaskSnapshot

BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800, float("inf"))


class TaskDurations:
    """Seconds from start to end of each task this process ran, by job and final status."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "taskpool_task_duration_seconds",
            "Run time of finished tasks, in this process (start to end)",
            ["job", "status", "process"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.process = "api"

    def observe(self, snapshot: TaskSnapshot) -> None:
        """A manager listener: counts each task once, when it becomes final."""
        if not snapshot.is_final or snapshot.started_at is None or snapshot.finished_at is None:
            return
        self.histogram.labels(str(snapshot.name), snapshot.status.name, self.process).observe(
            max(0.0, snapshot.finished_at - snapshot.started_at)
        )
