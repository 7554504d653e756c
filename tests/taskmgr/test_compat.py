"""Code written for streamlit-octostar-utils' AsyncTaskManager keeps working."""

from __future__ import annotations

import threading
from typing import Any

from taskmgr import AsyncTaskManager

from .conftest import WAIT_S


def test_octostar_style_usage() -> None:
    seen: list[Any] = []
    go = threading.Event()

    def long_job(task_data: Any, steps: int) -> str:
        for i in range(steps):
            task_data.output(AsyncTaskManager.TaskStatus.IN_PROGRESS, {"step": i})
            assert go.wait(WAIT_S)
        return "finished"

    manager = AsyncTaskManager(max_workers=2)
    assert manager.submit("job", long_job, {"steps": 3})
    deadline_snap = manager.get_result("job")
    assert deadline_snap["status"] in (
        AsyncTaskManager.TaskStatus.INIT,
        AsyncTaskManager.TaskStatus.IN_PROGRESS,
    )
    go.set()
    manager.join("job", timeout=WAIT_S)
    result = manager.get_result("job")
    seen.append(result["data"])
    assert result["status"] == AsyncTaskManager.TaskStatus.SUCCESS
    assert result["status"].value >= 10
    assert seen == ["finished"]

    def cancellable(task_data: Any) -> None:
        try:
            task_data.cancel_event.wait(WAIT_S)
            task_data.output(None, "after cancel")
        except AsyncTaskManager.CancelledError:
            raise

    manager.submit("c", cancellable)
    manager.cancel("c")
    manager.cancel_all()
    manager.join_all()
    assert manager.get_result("c")["status"] == AsyncTaskManager.TaskStatus.CANCELLED


def test_get_handler_returns_one_manager_per_task_type() -> None:
    a = AsyncTaskManager.get_handler("compat-test-a")
    assert AsyncTaskManager.get_handler("compat-test-a") is a
    assert AsyncTaskManager.get_handler("compat-test-b") is not a
