"""The Admin page's rows, built from the tracker's and the manager's records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from typing import Any

from app.admin_tables import (
    admin_order,
    ago,
    browser_name,
    loop_text,
    page_of,
    queue_rows,
    session_rows,
    short,
    task_counts,
    task_label,
    task_rows,
)
from sessions import SessionInfo, SessionState
from taskmgr import LoopHealth, ManagerStats, OwnerStats, TaskStatus
from tests.app.conftest import snapshot

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.6778.85 Safari/537.36"
)
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15"
)


def session(session_id: str, owner: str | None, **fields: Any) -> SessionInfo:
    values: dict[str, Any] = {
        "session_id": session_id,
        "owner": owner,
        "state": SessionState.CONNECTED,
        "started_at": 3600.0,
        "last_heartbeat": 3700.0,
        "disconnected_at": None,
        "user_agent": CHROME,
        "client_ip": None,
        "page": "Jobs",
        "script_runs": 3,
        "registered": owner is not None,
    }
    values.update(fields)
    return SessionInfo(**values)


def test_short_keeps_a_prefix() -> None:
    assert short("abcdefghijkl") == "abcdefgh…"
    assert short("abc") == "abc"
    assert short(None) == "—"


def test_browser_names() -> None:
    assert browser_name(CHROME) == "Headless Chrome 131 · Linux"
    assert browser_name(FIREFOX) == "Firefox 133 · Windows"
    assert browser_name(SAFARI) == "Safari 18 · macOS"
    assert browser_name("curl/8.5.0") == "curl/8.5.0"
    assert browser_name(None) == "—"


def test_ago() -> None:
    assert ago(100.0, now=103.5) == "3.5 s ago"
    assert ago(None) == "—"


def test_task_counts_per_owner() -> None:
    counts = task_counts(
        [
            snapshot("a", "o1", TaskStatus.IN_PROGRESS),
            snapshot("b", "o1", TaskStatus.CANCELLING),
            snapshot("c", "o1", TaskStatus.INIT),
            snapshot("d", "o2", TaskStatus.SUCCESS),
        ]
    )

    assert (counts["o1"].running, counts["o1"].queued, counts["o1"].finished) == (2, 1, 0)
    assert (counts["o2"].running, counts["o2"].queued, counts["o2"].finished) == (0, 0, 1)


def test_session_rows() -> None:
    counts = task_counts([snapshot("a", "owner-one-token", TaskStatus.IN_PROGRESS)])
    rows = session_rows(
        [session("session-one", "owner-one-token"), session("session-two", None, page=None)],
        counts,
        UTC,
        me="session-two",
        now=3702.0,
    )

    assert rows[0] == {
        "Session": "session-…",
        "Owner": "owner-on…",
        "State": "connected",
        "Started": "01:00:00",
        "Last heartbeat": "2.0 s ago",
        "User agent": "Headless Chrome 131 · Linux",
        "Page": "Jobs",
        "Running": 1,
        "Queued": 0,
        "Finished": 0,
    }
    assert rows[1]["Session"] == "session-… (you)"
    assert (rows[1]["Owner"], rows[1]["Page"], rows[1]["Running"]) == ("—", "—", 0)


def test_task_rows_put_unfinished_first() -> None:
    rows = task_rows(
        admin_order(
            [
                snapshot("old-done", "o", TaskStatus.SUCCESS, started_at=1.0, finished_at=5.0),
                snapshot("running", "o", TaskStatus.IN_PROGRESS, progress=0.42, started_at=2.0),
                snapshot("queued", "o", TaskStatus.INIT, submitted_at=3.0, queue_position=2),
                snapshot("new-done", "o", TaskStatus.ERROR, started_at=1.0, finished_at=9.0),
            ]
        ),
        UTC,
    )

    assert [row["Task"] for row in rows] == ["running", "queued", "new-done", "old-done"]
    assert rows[0]["Progress"] == "42%"
    assert rows[1]["State"] == "Queued (#2 in line)"
    assert rows[1]["Elapsed"] == "—"
    assert rows[3]["Progress"] == "100%"
    assert rows[3]["Elapsed"] == "4.0 s"
    assert rows[0]["Job"] == "Batch of slow steps"
    assert rows[0]["Message"] == "—"


def test_long_task_lists_come_in_pages() -> None:
    items = list(range(120))
    assert page_of(items, 1) == (list(range(50)), 3)
    assert page_of(items, 3) == (list(range(100, 120)), 3)
    assert page_of(items, 99) == (list(range(100, 120)), 3)  # past the end: the last page
    assert page_of([], 1) == ([], 1)


def test_a_task_is_labelled_by_job_time_and_owner() -> None:
    task = snapshot("batch_steps-7", "browser:1f3a9c0d77", TaskStatus.INIT, submitted_at=3723.0)
    assert task_label(task, UTC) == "Batch of slow steps · 01:02:03 · browser 1f3a9c0d…"


def test_queue_rows_busiest_owner_first() -> None:
    stats = ManagerStats(
        max_workers=4,
        running=3,
        queued=5,
        cancelling=0,
        retained=0,
        per_owner={"quiet": OwnerStats(0, 1), "busy": OwnerStats(3, 4)},
    )

    assert queue_rows(stats) == [
        {"Owner": "busy", "Running": 3, "Queued": 4, "Async running": 0, "Async queued": 0},
        {"Owner": "quiet", "Running": 0, "Queued": 1, "Async running": 0, "Async queued": 0},
    ]


def test_loop_text_names_the_task_that_holds_the_loop() -> None:
    quiet = ManagerStats(
        max_workers=4,
        running=0,
        queued=0,
        cancelling=0,
        retained=0,
        max_async=100,
        async_running=3,
        loop=LoopHealth(lag_s=0.002, max_lag_s=0.004),
    )
    assert loop_text(quiet) == ("3 of 100 async tasks running; event loop lag 2 ms (worst 4 ms)")
    held = replace(quiet, loop=LoopHealth(lag_s=1.25, blocking="crunch ('c-1')", stalls=1))
    assert loop_text(held) == (
        "3 of 100 async tasks running; the event loop is held by crunch ('c-1') for 1.2 s"
    )
    after = replace(
        quiet, async_queued=2, loop=LoopHealth(0.0, 1.3, stalls=1, last_blocker="crunch ('c-1')")
    )
    assert loop_text(after) == (
        "3 of 100 async tasks running, 2 queued; event loop lag 0 ms (worst 1300 ms); "
        "held 1 time(s), last by crunch ('c-1')"
    )
