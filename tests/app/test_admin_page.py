"""The Admin page: the password gate, the live panel, the operator's actions, the broadcast."""

from __future__ import annotations

import threading

import pytest
from streamlit.testing.v1 import AppTest

from app.admin_tables import owner_label, short
from app.admin_view import cancel_task
from app.services import services
from app.session import Notice
from taskmgr import TaskContext, TaskStatus
from tests.app.conftest import ADMIN_PAGE, AppFactory, owner_of, texts
from ui.markdown_text import literal

PASSWORD = "correct horse battery staple"


def wait_for_cancel(ctx: TaskContext, started: threading.Event) -> None:
    started.set()
    ctx.sleep(60)


def finish_at_once(ctx: TaskContext) -> str:
    return "done"


def start_waiting(owner: str, task_id: str) -> None:
    started = threading.Event()
    kwargs = {"started": started}
    services().manager.submit(task_id, wait_for_cancel, kwargs, owner=owner, name="batch_steps")
    assert started.wait(30)


def log_in(at: AppTest, password: str = PASSWORD) -> AppTest:
    at.text_input(key="admin-password").set_value(password)
    return at.button(key="admin-login").click().run()


def admin_panel_shown(at: AppTest) -> bool:
    return "Live sessions" in texts(at.subheader)


def test_without_a_password_the_page_explains_how_to_set_one(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE).run()

    assert not at.exception
    [warning] = at.warning
    assert "ADMIN_PASSWORD" in warning.value and "secrets.example.toml" in warning.value
    assert not at.text_input and not at.button
    assert not admin_panel_shown(at)


def test_the_gate_asks_for_the_password(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()

    assert at.text_input(key="admin-password").label == "Admin password"
    assert not admin_panel_shown(at)


def test_wrong_password_shows_nothing_and_is_forgotten(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()

    log_in(at, "guess")

    assert not at.exception
    assert texts(at.error) == ["Wrong password. You can try again in 1 second."]
    assert not admin_panel_shown(at)
    assert at.text_input(key="admin-password").value == ""


def test_an_attempt_right_after_a_failure_is_refused_unchecked(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()
    log_in(at, "guess")

    log_in(at, PASSWORD)

    assert texts(at.error) == ["Too many failed attempts. Try again in 1 second."]
    assert not admin_panel_shown(at)


def test_right_password_opens_the_panel(make_app: AppFactory) -> None:
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()

    log_in(at)

    assert not at.exception
    assert not at.error
    assert texts(at.subheader)[:4] == ["Live sessions", "All tasks", "Pool", "Actions"]
    assert texts(at.subheader)[4:] == [
        "Database",
        "Processes",
        "Task history (all processes)",
        "Session history",
        "REST API tokens",
    ]


def test_with_threads_the_page_links_no_dask_dashboard(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    assert admin_panel_shown(at)
    assert at.get("link_button") == []


def test_password_from_the_environment_wins(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "from-env")
    at = make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run()

    log_in(at, "from-env")

    assert admin_panel_shown(at)


def test_log_out_closes_the_panel(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    at.button(key="admin-logout").click().run()

    assert not admin_panel_shown(at)


def test_panel_lists_every_owners_tasks(make_app: AppFactory) -> None:
    users = [make_app().run(), make_app().run()]
    for n, user in enumerate(users):
        start_waiting(owner_of(user), f"batch_steps-{n + 1}")
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    [_limits, _sessions, tasks_table, queue, *_store_tables] = at.table  # the store's follow
    tasks = tasks_table.value
    listed = set(zip(tasks["Task"], tasks["Owner"], strict=True))  # ids repeat across owners
    # Cells hold markdown that shows as text: "ll-_D4WZ…" is "ll-\_D4WZ…" here.
    labels = [literal(owner_label(owner_of(user))) for user in users]
    assert ("batch_steps-1", labels[0]) in listed
    assert ("batch_steps-2", labels[1]) in listed
    assert set(queue.value["Owner"]) >= set(labels)


def test_cancel_task_action(make_app: AppFactory) -> None:
    user = make_app().run()
    start_waiting(owner_of(user), "batch_steps-1")
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    at.selectbox(key="admin-task").set_value((owner_of(user), "batch_steps-1"))
    at.button(key="admin-cancel-task").click().run()

    done = services().manager.join("batch_steps-1", owner=owner_of(user), timeout=30)
    assert done.status is TaskStatus.CANCELLED
    which = f"batch_steps-1 of {owner_label(owner_of(user))}"
    assert literal(f"Cancel requested for task {which}.") in texts(at.success)


def test_cancel_says_where_the_task_stands_not_what_this_press_changed(
    make_app: AppFactory,
) -> None:
    """A second press (or a replayed one) on a task the first press cancelled must not
    say the task "had already ended" as if someone else had stopped it."""
    owner = owner_of(make_app().run())
    which = f"of {owner_label(owner)}"
    start_waiting(owner, "batch_steps-1")
    services().manager.submit("quick-1", finish_at_once, {}, owner=owner, name="batch_steps")
    services().manager.join("quick-1", owner=owner, timeout=30)

    first = cancel_task(owner, "batch_steps-1")
    services().manager.join("batch_steps-1", owner=owner, timeout=30)
    again = cancel_task(owner, "batch_steps-1")
    ended = cancel_task(owner, "quick-1")
    unknown = cancel_task(owner, "batch_steps-9")

    assert first == Notice("success", f"Cancel requested for task batch_steps-1 {which}.")
    assert again == Notice("success", f"Task batch_steps-1 {which} is cancelled.")
    assert ended == Notice("info", f"Task quick-1 {which} had already ended (Done).")
    assert unknown == Notice(
        "info", f"Task batch_steps-9 {which} is no longer listed: it ended and was cleared."
    )


def test_cancel_all_tasks_of_a_session_action(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())
    owner = owner_of(at)
    start_waiting(owner, "batch_steps-1")
    start_waiting(owner, "batch_steps-2")
    at.run()
    session = at.session_state["app"].session_id

    at.selectbox(key="admin-session").set_value((session, owner))
    at.button(key="admin-cancel-session").click().run()

    manager = services().manager
    for task_id in ("batch_steps-1", "batch_steps-2"):
        assert manager.join(task_id, owner=owner, timeout=30).status is TaskStatus.CANCELLED
    assert any(text.startswith("Cancel requested for 2 task(s)") for text in texts(at.success))

    at.button(key="admin-cancel-session").click().run()  # the same session, nothing left

    nothing = f"Nothing to cancel: session {short(session)} has no unfinished task."
    assert literal(nothing) in texts(at.info)


def test_broadcast_is_shown_on_other_users_pages(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    at.text_area(key="admin-broadcast").set_value("Restart at 18:00")
    at.button(key="admin-broadcast-send").click().run()

    user = make_app().run()
    assert any("Restart at 18:00" in text for text in texts(user.info))


def test_a_user_can_dismiss_the_broadcast(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())
    at.text_area(key="admin-broadcast").set_value("Restart at 18:00")
    at.button(key="admin-broadcast-send").click().run()
    user = make_app().run()

    user.button(key="broadcast-dismiss").click().run()

    assert not any("Restart at 18:00" in text for text in texts(user.info))


def test_empty_broadcast_is_explained(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    at.text_area(key="admin-broadcast").set_value("   ")
    at.button(key="admin-broadcast-send").click().run()

    assert not at.exception
    assert "Write a message first." in texts(at.error)


def test_store_section_names_the_database_and_this_process(make_app: AppFactory) -> None:
    at = log_in(make_app(ADMIN_PAGE, secrets={"ADMIN_PASSWORD": PASSWORD}).run())

    assert any(text.startswith("Connected to sqlite:///") for text in texts(at.success))
    processes = next(table.value for table in at.table if "PID" in table.value.columns)
    assert any(str(name).endswith("(this one)") for name in processes["Process"])
