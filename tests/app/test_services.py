"""The app's wiring follows the manager and the tracker if their caches are replaced."""

from __future__ import annotations

from app.services import services
from taskmgr import get_task_manager
from taskmgr.resource import get_task_manager as cached_task_manager


def test_services_are_wired_once() -> None:
    assert services() is services()


def test_a_replaced_manager_is_picked_up() -> None:
    before = services()
    cached_task_manager.clear()  # shuts the old manager down (its on_release)

    after = services()

    assert after.manager is get_task_manager()
    assert after.manager is not before.manager
    assert after.tracker is before.tracker
