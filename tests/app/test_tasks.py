"""Task ids: a new one per start, never reusing a live id, even after a refresh."""

from __future__ import annotations

from app.tasks import new_task_id
from taskmgr import TaskStatus
from tests.app.conftest import snapshot


def test_first_task_of_a_job_is_number_one() -> None:
    assert new_task_id("monte_carlo_pi", []) == "monte_carlo_pi-1"


def test_ids_continue_after_the_highest_the_owner_has() -> None:
    owned = [
        snapshot("monte_carlo_pi-2", "o", TaskStatus.SUCCESS),
        snapshot("monte_carlo_pi-7", "o", TaskStatus.IN_PROGRESS),
        snapshot("batch_steps-9", "o", TaskStatus.INIT),
        snapshot("monte_carlo_pi-x", "o", TaskStatus.INIT),
    ]

    assert new_task_id("monte_carlo_pi", owned) == "monte_carlo_pi-8"
    assert new_task_id("batch_steps", owned) == "batch_steps-10"
    assert new_task_id("csv_profile", owned) == "csv_profile-1"
