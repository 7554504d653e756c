"""The Jobs page with the store: tasks from an earlier run of the server, and kept inputs."""

from __future__ import annotations

import time
import uuid

from app.services import services
from sessions.owner import owner_for_user
from store.records import WriteBatch
from taskmgr import TaskStatus
from tests.app.conftest import JOBS_PAGE, AppFactory, owner_of, snapshot, texts


def signed_in_user() -> dict[str, object]:
    """A user signed in with Streamlit auth: the one owner a new session of theirs gets."""
    return {"is_logged_in": True, "iss": "https://id.example", "sub": uuid.uuid4().hex}


def left_by_a_dead_process(owner: str, task_id: str, status: TaskStatus, **fields: object) -> None:
    """Write a task as a process that has since died would have, then let it be found dead."""
    durable = services().store
    running = snapshot(task_id, owner, status, submitted_at=time.time(), **fields)
    batch = WriteBatch(tasks={(owner, task_id): running})
    durable.backend.write(batch, "gone-process")
    durable.backend.stop_process("gone-process", time.time())  # its unfinished tasks: interrupted
    durable.writer.params(owner, task_id, "batch_steps", {"steps": 2, "step_s": 0.01, "fail_at": 0})
    assert durable.writer.flush(30)


def test_an_interrupted_task_shows_its_last_progress_and_runs_again(make_app: AppFactory) -> None:
    user = signed_in_user()
    owner = owner_for_user(user)
    assert owner is not None
    left_by_a_dead_process(
        owner, "batch_steps-1", TaskStatus.IN_PROGRESS, progress=0.4, message="step 4/10 done"
    )
    at = make_app(JOBS_PAGE)
    at.user = dict(user)
    at.run()
    assert owner_of(at) == owner

    assert "Last progress: 40% · step 4/10 done" in [p.text for p in at.get("progress")]
    at.button(key="again-batch_steps-1").click().run()

    assert not at.exception
    rerun = services().manager.get_result("batch_steps-2", owner=owner)
    assert rerun.name == "batch_steps"
    assert services().manager.join("batch_steps-2", owner=owner, timeout=30).status is (
        TaskStatus.SUCCESS
    )


def test_a_result_finished_before_a_restart_is_still_shown(make_app: AppFactory) -> None:
    user = signed_in_user()
    owner = owner_for_user(user)
    assert owner is not None
    rows = [{"step": 1, "value": 1.5}]
    left_by_a_dead_process(
        owner, "batch_steps-7", TaskStatus.SUCCESS, result=rows, finished_at=time.time()
    )
    at = make_app(JOBS_PAGE)
    at.user = dict(user)
    at.run()

    assert "**Batch of slow steps · batch_steps-7**" in texts(at.markdown)
    assert any(text.startswith("Done") for text in texts(at.success))


def test_the_form_comes_back_with_the_last_inputs_after_a_refresh(make_app: AppFactory) -> None:
    user = signed_in_user()
    first = make_app(JOBS_PAGE)
    first.user = dict(user)
    first.run()
    first.text_input(key="job-batch_steps-steps").set_value("3")
    first.text_input(key="job-batch_steps-step_s").set_value("0.02")
    first.button(key="start-batch_steps").click().run()

    refreshed = make_app(JOBS_PAGE)  # a new session of the same user
    refreshed.user = dict(user)
    refreshed.run()
    assert owner_of(refreshed) == owner_of(first)

    assert refreshed.text_input(key="job-batch_steps-steps").value == "3"
    assert refreshed.text_input(key="job-batch_steps-step_s").value == "0.02"
    other = make_app(JOBS_PAGE).run()  # another tab keeps the defaults
    assert other.text_input(key="job-batch_steps-steps").value != "3"
