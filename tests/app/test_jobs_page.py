"""The Jobs page's forms: a good submit starts a task of this tab; bad input is explained."""

from __future__ import annotations

import pytest

from app import tasks
from app.services import services
from taskmgr import QueueFull, TaskStatus
from tests.app.conftest import JOBS_PAGE, AppFactory, owner_of, texts

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32)


def test_start_submits_the_job_under_this_tabs_owner(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    at.text_input(key="job-batch_steps-steps").set_value("2")
    at.text_input(key="job-batch_steps-step_s").set_value("0.01")

    at.button(key="start-batch_steps").click().run()

    assert not at.exception
    assert "Started “Batch of slow steps” as task batch_steps-1." in texts(at.success)
    owned = services().manager.list_tasks(owner_of(at))
    assert [task.id for task in owned] == ["batch_steps-1"]
    assert owned[0].name == "batch_steps"
    assert "**Batch of slow steps · batch_steps-1**" in texts(at.markdown)


def test_each_start_gets_a_new_task_id(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    at.text_input(key="job-batch_steps-step_s").set_value("0.01")

    at.button(key="start-batch_steps").click().run()
    at.button(key="start-batch_steps").click().run()

    ids = sorted(str(task.id) for task in services().manager.list_tasks(owner_of(at)))
    assert ids == ["batch_steps-1", "batch_steps-2"]


def test_every_run_sends_the_browser_the_values_the_form_holds(make_app: AppFactory) -> None:
    """A browser draws a field it holds no value for (a first draw, or after it dropped
    the form's values) with the default it was last sent: an untouched field would come
    back empty, and be submitted empty, unless that default is the value held here."""
    at = make_app(JOBS_PAGE).run()
    at.text_input(key="job-batch_steps-steps").set_value("3")
    at.text_input(key="job-batch_steps-step_s").set_value("0.01")
    at.button(key="start-batch_steps").click().run()
    at.run()

    assert not at.exception
    sent = {
        name: at.text_input(key=f"job-batch_steps-{name}").proto.default
        for name in ("steps", "step_s", "fail_at")
    }
    assert sent == {"steps": "3", "step_s": "0.01", "fail_at": "0"}


@pytest.mark.parametrize(
    ("job", "param", "value", "message"),
    [
        ("batch_steps", "steps", "", "Steps: is empty; expected a whole number"),
        ("batch_steps", "steps", "-5", "Steps: must be at least 1, got -5"),
        ("batch_steps", "step_s", "nan", "Seconds per step: must be a finite number"),
        ("batch_steps", "fail_at", "300", "Fail at step: step 300 is past the last step"),
        ("monte_carlo_pi", "samples", "99999999999999", "Points to draw: must be at most"),
        ("monte_carlo_pi", "batch", "lots", "Points per batch: expected a whole number"),
        ("monte_carlo_pi", "seed", "-1", "Random seed: must be at least 0"),
        ("csv_profile", "chunk_rows", "0", "Rows per chunk: must be at least 10"),
        ("csv_profile", "chunk_rows", "1e99", "Rows per chunk: must be at most 100,000"),
    ],
)
def test_bad_number_is_explained_and_starts_nothing(
    make_app: AppFactory, job: str, param: str, value: str, message: str
) -> None:
    at = make_app(JOBS_PAGE).run()
    at.text_input(key=f"job-{job}-{param}").set_value(value)

    at.button(key=f"start-{job}").click().run()

    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith(message)
    assert services().manager.list_tasks(owner_of(at)) == []


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("photo.png", PNG, "CSV file: 'photo.png' has the wrong type; expected one of .csv"),
        ("empty.csv", b"", "CSV file: the file is empty"),
        ("bad.csv", b"a,b\n1,2\n1,2,3,4\n", "CSV file: is malformed: line 3 has 4 fields"),
        ("binary.csv", PNG, "CSV file: does not look like a CSV"),
        ("latin1.csv", "name\ncafé\n".encode("latin-1"), "CSV file: is not UTF-8 text"),
    ],
)
def test_bad_file_is_explained_and_starts_nothing(
    make_app: AppFactory, filename: str, content: bytes, message: str
) -> None:
    at = make_app(JOBS_PAGE).run()
    at.file_uploader(key="job-csv_profile-csv_file").upload(filename, content)

    at.button(key="start-csv_profile").click().run()

    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith(message)
    assert services().manager.list_tasks(owner_of(at)) == []


def test_uploaded_csv_is_profiled(make_app: AppFactory) -> None:
    at = make_app(JOBS_PAGE).run()
    csv = b"city,amount\nRome,3\nOslo,4.5\nLima,\n"
    at.file_uploader(key="job-csv_profile-csv_file").upload("shop.csv", csv, "text/csv")

    at.button(key="start-csv_profile").click().run()

    done = services().manager.join("csv_profile-1", owner=owner_of(at), timeout=30)
    assert done.status is TaskStatus.SUCCESS
    assert [row["name"] for row in done.result] == ["city", "amount"]


def test_refused_submit_is_explained(make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise QueueFull("100 tasks are already queued for this owner")

    monkeypatch.setattr(tasks, "start_job", refuse)
    at = make_app(JOBS_PAGE).run()

    at.button(key="start-monte_carlo_pi").click().run()

    assert not at.exception
    assert texts(at.error) == ["Not started: 100 tasks are already queued for this owner."]


def test_the_async_job_starts_from_its_tab_and_shows_its_partial_table(
    make_app: AppFactory,
) -> None:
    at = make_app(JOBS_PAGE).run()
    at.text_input(key="job-fetch_pages-pages").set_value("6")
    at.text_input(key="job-fetch_pages-latency_s").set_value("0.01")

    at.button(key="start-fetch_pages").click().run()

    assert not at.exception
    assert "Started “Fetch pages concurrently (async)” as task fetch_pages-1." in texts(at.success)
    manager = services().manager
    final = manager.join("fetch_pages-1", owner=owner_of(at), timeout=30)
    assert final.status is TaskStatus.SUCCESS, final.error
    at.run()
    assert not at.exception
    tables = [frame.value for frame in at.dataframe]
    assert any(list(table["page"]) == [1, 2, 3, 4, 5, 6] for table in tables), tables
