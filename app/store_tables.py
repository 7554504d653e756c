"""The Admin page's store tables as plain rows: processes, task and session history.

Pure functions of the store's records (tested without a server); owners and ids are
shortened as on the live tables.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import tzinfo
from typing import Any

from app.admin_tables import ago, browser_name, clock, owner_label, short
from store import ProcessRecord, StoredSession, StoredTask
from taskmgr import TaskStatus
from ui.format import format_elapsed, format_percent


def process_rows(
    processes: Iterable[ProcessRecord],
    tasks: Iterable[StoredTask],
    zone: tzinfo,
    me: str = "",
    now: float | None = None,
) -> list[dict[str, Any]]:
    """One row per process: alive or how it stopped, and how many tasks it runs."""
    running = Counter(task.process_id for task in tasks if not task.is_final)
    return [
        {
            "Process": short(process.id) + (" (this one)" if process.id == me else ""),
            "Kind": process.kind,
            "Host": process.host,
            "PID": process.pid,
            "Started": clock(process.started_at, zone),
            "Last heartbeat": ago(process.last_heartbeat, now),
            "State": "alive" if process.alive else (process.stop_reason or "stopped"),
            "Unfinished tasks": running.get(process.id, 0),
        }
        for process in processes
    ]


def stored_task_rows(tasks: Iterable[StoredTask], zone: tzinfo) -> list[dict[str, Any]]:
    """Every stored task, newest first, with the process that runs (or ran) it."""
    return [
        {
            "Owner": owner_label(task.owner),
            "Task": task.task_id,
            "Job": task.job,
            "State": task.status.name.replace("_", " ").title(),
            "Progress": format_percent(1.0 if task.status is TaskStatus.SUCCESS else task.progress)
            or "—",
            "Process": short(task.process_id),
            "Submitted": clock(task.submitted_at, zone),
            "Finished": clock(task.finished_at, zone),
        }
        for task in sorted(tasks, key=lambda t: t.submitted_at, reverse=True)
    ]


def session_history_rows(sessions: Iterable[StoredSession], zone: tzinfo) -> list[dict[str, Any]]:
    """Sessions, live and ended, with how long each lasted."""
    return [
        {
            "Session": short(info.session_id),
            "Owner": owner_label(info.owner),
            "State": info.state,
            "Started": clock(info.started_at, zone),
            "Ended": clock(info.ended_at, zone),
            "Duration": format_elapsed(info.duration_s) or "—",
            "User agent": browser_name(info.user_agent),
            "Page": info.page or "—",
            "Process": short(info.process_id),
        }
        for info in sessions
    ]
