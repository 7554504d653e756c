"""The Admin page's tables as plain rows: sessions, tasks and the pool's queue per owner.

Pure functions of the tracker's and the manager's records, so they are tested without
a server. Owners are shown shortened (``browser 1f3a9c0d…``): a prefix is enough to
match rows by eye.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, TypeVar

from jobs import JOBS
from sessions import SessionInfo
from taskmgr import ManagerStats, TaskSnapshot, TaskStatus
from ui.format import format_elapsed, format_percent, status_label

T = TypeVar("T")
_SHORT = 8
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Headless Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
_SYSTEMS = (
    ("Windows", "Windows"),
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def short(value: Hashable | None) -> str:
    """The first characters of an id or token, enough to tell rows apart."""
    if value is None:
        return "—"
    text = str(value)
    return text if len(text) <= _SHORT else text[:_SHORT] + "…"


def owner_label(owner: Hashable | None) -> str:
    """``browser 1f3a9c0d…``: what the owner stands for, and enough of it to match rows."""
    if isinstance(owner, str) and ":" in owner:
        kind, _, rest = owner.partition(":")
        return f"{kind} {short(rest)}"
    return short(owner)


def clock(ts: float | None, zone: tzinfo) -> str:
    """``14:03:27`` in the viewer's time zone; a dash when unknown."""
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, zone).strftime("%H:%M:%S")


def ago(ts: float | None, now: float | None = None) -> str:
    """``3 s ago``; a dash when unknown."""
    if ts is None:
        return "—"
    seconds = max(0.0, (time.time() if now is None else now) - ts)
    return f"{format_elapsed(seconds)} ago"


def browser_name(user_agent: str | None) -> str:
    """``Chrome 131 · Linux`` from a User-Agent header; the raw start of it if unknown."""
    if not user_agent:
        return "—"
    name = next((label for token, label in _BROWSERS if token in user_agent), None)
    system = next((label for token, label in _SYSTEMS if token in user_agent), None)
    if name is None:
        return user_agent[:40]
    token = next(token for token, label in _BROWSERS if label == name and token in user_agent)
    match = re.search(re.escape(token) + r"(\d+)", user_agent)
    version = f" {match.group(1)}" if match else ""
    return f"{name}{version}" + (f" · {system}" if system else "")


@dataclass(frozen=True)
class TaskCounts:
    running: int = 0
    queued: int = 0
    finished: int = 0


def task_counts(tasks: Iterable[TaskSnapshot]) -> dict[Hashable, TaskCounts]:
    """Per owner: how many tasks run (or are cancelling), wait, or have ended."""
    counters: dict[Hashable, Counter[str]] = {}
    for task in tasks:
        if task.status is TaskStatus.INIT:
            kind = "queued"
        elif task.is_final:
            kind = "finished"
        else:
            kind = "running"
        counters.setdefault(task.owner, Counter())[kind] += 1
    return {
        owner: TaskCounts(c["running"], c["queued"], c["finished"]) for owner, c in counters.items()
    }


def session_rows(
    sessions: Iterable[SessionInfo],
    counts: Mapping[Hashable, TaskCounts],
    zone: tzinfo,
    me: str = "",
    now: float | None = None,
) -> list[dict[str, Any]]:
    """One row per live session; ``me`` (the viewer's session id) is marked."""
    rows = []
    for info in sessions:
        owned = counts.get(info.owner, TaskCounts()) if info.owner else TaskCounts()
        marker = " (you)" if info.session_id == me else ""
        rows.append(
            {
                "Session": short(info.session_id) + marker,
                "Owner": owner_label(info.owner),
                "State": info.state.value,
                "Started": clock(info.started_at, zone),
                "Last heartbeat": ago(info.last_heartbeat, now),
                "User agent": browser_name(info.user_agent),
                "Page": info.page or "—",
                "Running": owned.running,
                "Queued": owned.queued,
                "Finished": owned.finished,
            }
        )
    return rows


#: Rows of the Admin page's task table per page.
TASKS_PER_PAGE = 50


def admin_order(tasks: Iterable[TaskSnapshot]) -> list[TaskSnapshot]:
    """Unfinished first (oldest first), then the ended ones, latest first."""
    return sorted(
        tasks,
        key=lambda t: (t.is_final, -(t.finished_at or 0.0) if t.is_final else t.submitted_at),
    )


def page_of(items: Sequence[T], page: int, size: int = TASKS_PER_PAGE) -> tuple[list[T], int]:
    """The items of 1-based ``page`` (clamped to the pages there are) and the page count."""
    pages = max(1, -(-len(items) // size))
    page = min(max(1, page), pages)
    return list(items[(page - 1) * size : page * size]), pages


def task_label(task: TaskSnapshot, zone: tzinfo) -> str:
    """``Batch of slow steps · 14:03:27 · browser 1f3a9c0d…``: what, when and whose."""
    job = JOBS.get(task.name)
    title = job.title if job is not None else task.name
    return f"{title} · {clock(task.submitted_at, zone)} · {owner_label(task.owner)}"


def task_rows(tasks: Iterable[TaskSnapshot], zone: tzinfo) -> list[dict[str, Any]]:
    """One row per task, in the order given (see ``admin_order``)."""
    return [
        {
            "Owner": owner_label(task.owner),
            "Job": _job_title(task),
            "Task": str(task.id),
            "State": status_label(task),
            "Progress": format_percent(1.0 if task.status is TaskStatus.SUCCESS else task.progress)
            or "—",
            "Elapsed": format_elapsed(task.elapsed_s) or "—",
            "Submitted": clock(task.submitted_at, zone),
            "Message": task.message or "—",
        }
        for task in tasks
    ]


def _job_title(task: TaskSnapshot) -> str:
    job = JOBS.get(task.name)
    return job.title if job is not None else task.name


@dataclass(frozen=True)
class Limits:
    """What one user, and everyone together, may hold at once."""

    max_workers: int
    reserve: int
    max_running_per_owner: int | None
    max_queued_per_owner: int
    max_queued: int | None
    max_upload_mb: float
    uploads_per_owner_mb: float


def limit_rows(limits: Limits) -> list[dict[str, Any]]:
    """The limits in force and the setting that changes each (README, "Configuration")."""

    def count(value: int | None) -> str:
        return "no limit" if value is None else f"{value:,}"

    running = (
        f"{limits.max_running_per_owner:,}"
        if limits.max_running_per_owner is not None
        else f"{limits.max_workers - limits.reserve:,} (a reserve of {limits.reserve:,} "
        "is kept for users with nothing running)"
    )
    return [
        {"Limit": "Workers", "Value": f"{limits.max_workers:,}", "Setting": "TASKMGR_MAX_WORKERS"},
        {
            "Limit": "Workers one user may hold",
            "Value": running,
            "Setting": "TASKMGR_MAX_RUNNING_PER_OWNER",
        },
        {
            "Limit": "Tasks one user may queue",
            "Value": count(limits.max_queued_per_owner),
            "Setting": "TASKMGR_MAX_QUEUED_PER_OWNER",
        },
        {
            "Limit": "Tasks queued on the server",
            "Value": count(limits.max_queued),
            "Setting": "TASKMGR_MAX_QUEUED",
        },
        {
            "Limit": "Size of one upload",
            "Value": f"{limits.max_upload_mb:,g} MB",
            "Setting": "server.maxUploadSize (.streamlit/config.toml)",
        },
        {
            "Limit": "Uploads one user's unfinished tasks may hold",
            "Value": f"{limits.uploads_per_owner_mb:,g} MB",
            "Setting": "UPLOADS_MAX_MB_PER_OWNER",
        },
    ]


def queue_rows(stats: ManagerStats) -> list[dict[str, Any]]:
    """The pool per owner: workers held and tasks waiting (then async tasks), busiest first."""
    ordered = sorted(
        stats.per_owner.items(),
        key=lambda item: (-item[1].running, -item[1].queued, -item[1].async_running),
    )
    return [
        {
            "Owner": owner_label(owner),
            "Running": share.running,
            "Queued": share.queued,
            "Async running": share.async_running,
            "Async queued": share.async_queued,
        }
        for owner, share in ordered
    ]


def loop_text(stats: ManagerStats) -> str:
    """One line on the event loop of the async tasks: how busy, and whether a task holds it."""
    loop = stats.loop
    line = f"{stats.async_running} of {stats.max_async} async tasks running"
    if stats.async_queued:
        line += f", {stats.async_queued} queued"
    if loop.blocking is not None:
        return f"{line}; the event loop is held by {loop.blocking} for {loop.lag_s:.1f} s"
    line += f"; event loop lag {1000 * loop.lag_s:.0f} ms (worst {1000 * loop.max_lag_s:.0f} ms)"
    if loop.stalls:
        line += f"; held {loop.stalls} time(s), last by {loop.last_blocker}"
    return line
