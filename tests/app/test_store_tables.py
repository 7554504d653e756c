"""The Admin page's store tables, from records (no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from app.store_tables import process_rows, session_history_rows, stored_task_rows
from store import ProcessRecord, StoredSession, StoredTask
from taskmgr import TaskStatus


def stored(task_id: str, status: TaskStatus, process_id: str = "proc-a") -> StoredTask:
    return StoredTask(
        owner="owner-token-123456",
        task_id=task_id,
        job="batch_steps",
        params={"steps": 3},
        status=status,
        progress=0.5,
        message="half way",
        data=None,
        result=None,
        error=None,
        traceback=None,
        submitted_at=100.0,
        started_at=101.0,
        finished_at=None if not status.is_final else 110.0,
        process_id=process_id,
        cancel_requested_at=None,
        updated_at=110.0,
    )


def test_processes_show_how_they_stopped_and_what_they_run() -> None:
    alive = ProcessRecord("proc-a", "host", 11, "streamlit", 0.0, 95.0)
    dead = ProcessRecord("proc-b", "host", 12, "streamlit", 0.0, 50.0, 60.0, "stopped heartbeating")
    tasks = [stored("t1", TaskStatus.IN_PROGRESS), stored("t2", TaskStatus.SUCCESS)]
    rows = process_rows([alive, dead], tasks, UTC, me="proc-a", now=100.0)
    assert rows[0]["Process"] == "proc-a (this one)"
    assert (rows[0]["State"], rows[0]["Unfinished tasks"], rows[0]["Last heartbeat"]) == (
        "alive",
        1,
        "5.0 s ago",
    )
    assert (rows[1]["State"], rows[1]["Unfinished tasks"]) == ("stopped heartbeating", 0)


def test_task_history_names_the_process_and_shortens_owners() -> None:
    (row,) = stored_task_rows([stored("t1", TaskStatus.INTERRUPTED, "0123456789abcdef")], UTC)
    assert row["Owner"] == "owner-to…"
    assert row["State"] == "Interrupted"
    assert row["Progress"] == "50%"
    assert row["Process"] == "01234567…"


def test_task_history_tells_apart_owners_of_the_same_kind() -> None:
    one = replace(stored("t1", TaskStatus.IN_PROGRESS), owner="browser:aaaaaaaaaaaa")
    two = replace(stored("t1", TaskStatus.IN_PROGRESS), owner="browser:bbbbbbbbbbbb")
    owners = [row["Owner"] for row in stored_task_rows([one, two], UTC)]
    assert owners == ["browser aaaaaaaa…", "browser bbbbbbbb…"]


def test_session_history_shows_durations_of_ended_sessions() -> None:
    ended = StoredSession(
        "sess-1", "owner", "ended", 100.0, 150.0, 155.0, 190.0, None, None, "Jobs", 3, "proc-a"
    )
    (row,) = session_history_rows([ended], UTC)
    assert (row["State"], row["Duration"], row["Page"]) == ("ended", "1:30", "Jobs")
