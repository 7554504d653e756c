"""Task cards: a tab sees its own tasks only, with progress, place in line, cancel, outcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app.services import services
from app.task_view import MAX_FINISHED_SHOWN
from taskmgr import TaskContext, TaskStatus
from tests.app.conftest import JOBS_PAGE, AppFactory, owner_of, texts


def halfway_then_wait(ctx: TaskContext, started: threading.Event | None = None) -> None:
    """Reports a partial result, then waits to be cancelled."""
    ctx.report(progress=0.5, message="step 1/2 done", data=[{"step": 1, "status": "ok"}])
    if started is not None:
        started.set()
    ctx.sleep(60)


def fail_at_once(ctx: TaskContext) -> None:
    raise ValueError("the upstream service said no")


@pytest.fixture
def blockers() -> Iterator[list[str]]:
    """Owners whose tasks fill the pool; cancelled after the test."""
    owners: list[str] = []
    yield owners
    for owner in owners:
        services().manager.cancel_owner(owner)


def start_running(owner: str, task_id: str = "batch_steps-1") -> None:
    """Submit a task and return once it has reported its partial result."""
    started = threading.Event()
    kwargs = {"started": started}
    services().manager.submit(task_id, halfway_then_wait, kwargs, owner=owner, name="batch_steps")
    assert started.wait(30), f"{task_id} did not start"


def test_running_task_shows_progress_partial_result_and_cancel(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    start_running(owner_of(at))

    at.run()

    assert not at.exception
    [progress] = at.get("progress")
    assert progress.proto.text.startswith("Running · 50% · ")
    assert progress.proto.text.endswith("step 1/2 done")
    # The partial result: its latest rows as a table of text (no Arrow on every tick).
    assert [md.value.splitlines()[0] for md in at.markdown if md.value.startswith("| ")] == [
        "| step | status |"
    ]
    assert at.button(key="cancel-batch_steps-1").label == "Cancel"


def test_cancel_button_cancels_the_task(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    owner = owner_of(at)
    start_running(owner)
    at.run()

    at.button(key="cancel-batch_steps-1").click().run()

    done = services().manager.join("batch_steps-1", owner=owner, timeout=30)
    assert done.status is TaskStatus.CANCELLED
    at.run()
    assert any(text.startswith("Cancelled") for text in texts(at.warning))
    assert not [b for b in at.button if b.key == "cancel-batch_steps-1"]


def test_queued_task_shows_its_place_in_line(make_app: AppFactory, blockers: list[str]) -> None:
    at = make_app(JOBS_PAGE).run()
    manager = services().manager
    # One owner per worker: a single owner would leave the reserve free for this one.
    for n in range(manager.stats().max_workers):
        blockers.append(f"pool-filler-{n}")
        start_running(f"pool-filler-{n}", f"filler-{n}")

    manager.submit("batch_steps-1", halfway_then_wait, owner=owner_of(at), name="batch_steps")
    at.run()

    [progress] = at.get("progress")
    assert progress.proto.text.startswith("Queued (#1 in line)")


def test_failed_task_shows_its_error_without_traceback(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    owner = owner_of(at)
    services().manager.submit("batch_steps-1", fail_at_once, owner=owner, name="batch_steps")
    services().manager.join("batch_steps-1", owner=owner, timeout=30)

    at.run()

    assert not at.exception
    assert not at.code
    assert any("the upstream service said no" in text for text in texts(at.error))


def test_a_tab_sees_only_its_own_tasks(make_app: AppFactory, blockers: list[str]) -> None:
    mine = make_app(JOBS_PAGE).run()
    theirs = make_app(JOBS_PAGE).run()
    blockers.append(owner_of(theirs))
    start_running(owner_of(theirs), "batch_steps-7")

    mine.run()

    assert "No tasks yet: start one on the left." in texts(mine.caption)
    assert not [b for b in mine.button if b.key == "cancel-batch_steps-7"]


def test_home_lists_unfinished_tasks_only(make_app: AppFactory) -> None:
    at = make_app().run()
    owner = owner_of(at)
    services().manager.submit("batch_steps-1", fail_at_once, owner=owner, name="batch_steps")
    services().manager.join("batch_steps-1", owner=owner, timeout=30)
    start_running(owner, "batch_steps-2")

    at.run()

    cards = [text for text in texts(at.markdown) if text.startswith("**Batch of slow steps")]
    assert cards == ["**Batch of slow steps · batch_steps-2**"]


def test_home_says_when_nothing_runs(make_app: AppFactory) -> None:
    at = make_app().run()

    assert "Nothing running. Start a job on the Jobs page." in texts(at.caption)


def test_only_the_latest_finished_tasks_are_shown(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    owner = owner_of(at)
    manager = services().manager
    for n in range(MAX_FINISHED_SHOWN + 2):
        manager.submit(f"batch_steps-{n + 1}", fail_at_once, owner=owner, name="batch_steps")
        manager.join(f"batch_steps-{n + 1}", owner=owner, timeout=30)

    at.run()

    cards = [text for text in texts(at.markdown) if text.startswith("**Batch of slow steps")]
    assert len(cards) == MAX_FINISHED_SHOWN
    assert cards[0] == f"**Batch of slow steps · batch_steps-{MAX_FINISHED_SHOWN + 2}**"
    assert "2 older finished task(s) not shown." in texts(at.caption)
