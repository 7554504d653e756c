"""A user's tasks: start a job under the tab's owner token, list and cancel its tasks.

Only the owner's own tasks are reachable from here; ``list_all_tasks`` belongs to the
Admin page alone. The list joins what this process runs (the manager) with what the
store kept: finished results and interrupted tasks from before a restart, and tasks of
the same owner running in another process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from app.services import services
from jobs import JOBS, Job
from store import StoredTask
from taskmgr import AsyncTaskManager, TaskSnapshot, TaskStatus


def own_tasks(owner: str) -> list[TaskSnapshot]:
    """The owner's tasks: unfinished ones first (oldest first), then finished, newest first."""
    wired = services()
    tasks = wired.manager.list_tasks(owner)
    live = {str(task.id) for task in tasks}
    tasks += [
        stored.to_snapshot() for stored in wired.store.tasks(owner) if stored.task_id not in live
    ]
    unfinished = sorted((t for t in tasks if not t.is_final), key=lambda t: t.submitted_at)
    finished = sorted(
        (t for t in tasks if t.is_final), key=lambda t: t.finished_at or 0.0, reverse=True
    )
    return unfinished + finished


def is_stored(task: TaskSnapshot) -> bool:
    """A record read from the store (another process's, or from before a restart), not one
    of this process's manager: those have version 0 (the manager's start at 1)."""
    return task.version == 0


def unfinished_of(manager: AsyncTaskManager, owner: str) -> list[TaskSnapshot]:
    """The owner's queued and running tasks, oldest first: what a page refreshes."""
    tasks = manager.list_tasks(owner)
    return sorted((t for t in tasks if not t.is_final), key=lambda t: t.submitted_at)


def new_task_id(job_key: str, tasks: Iterable[TaskSnapshot]) -> str:
    """``<job>-<n>``, one past the highest ``n`` the owner has: unique across refreshes too.

    (Reusing a live id would replace that task, so the counter comes from the
    manager, not from ``st.session_state``, which a refresh empties.)
    """
    prefix = f"{job_key}-"
    highest = 0
    for task in tasks:
        task_id = str(task.id)
        if task_id.startswith(prefix) and task_id[len(prefix) :].isdigit():
            highest = max(highest, int(task_id[len(prefix) :]))
    return f"{prefix}{highest + 1}"


def start_job(job: Job, raw: Mapping[str, Any], owner: str) -> TaskSnapshot:
    """Validate the raw form values and queue the job.

    Raises ``JobParamError`` for bad input, ``UploadQuotaExceeded`` when the owner's
    unfinished tasks hold too many bytes of uploads, and ``QueueFull`` /
    ``ManagerClosed`` when the pool refuses the task.
    """
    params = job.validate(raw)
    wired = services()
    task_id = new_task_id(job.key, own_tasks(owner))
    wired.uploads.take(owner, task_id, upload_bytes(params))
    try:
        task = wired.manager.submit(task_id, job.fn, params, owner=owner, name=job.key)
    except BaseException:
        wired.uploads.give_back(owner, task_id)
        raise
    wired.store.record_params(owner, task_id, job.key, params)
    return task


def upload_bytes(params: Mapping[str, Any]) -> int:
    """The bytes of uploaded files among a task's parameters."""
    return sum(len(value) for value in params.values() if isinstance(value, (bytes, bytearray)))


def cancel_task(owner: str, task_id: str) -> bool:
    """Cancel the owner's task wherever it runs (here, or another process via the store)."""
    return services().store.cancel(owner, task_id)


def can_run_again(task: TaskSnapshot) -> bool:
    """An interrupted task whose job the app still offers."""
    return task.status is TaskStatus.INTERRUPTED and job_of(task) is not None


def run_again(owner: str, task_id: str) -> TaskSnapshot:
    """Start the job of an interrupted task again, with the parameters it had.

    ``LookupError`` when the store no longer has them (expired, or too large to keep).
    """
    stored: StoredTask | None = services().store.task(owner, task_id)
    job = JOBS.get(stored.job) if stored is not None else None
    if stored is None or job is None or stored.params is None:
        raise LookupError(f"task {task_id}: its parameters were not kept, start it from the form")
    return start_job(job, stored.params, owner)


def job_of(task: TaskSnapshot) -> Job | None:
    """The job a task runs (tasks are submitted with the job's key as their name)."""
    return JOBS.get(task.name)


def task_title(task: TaskSnapshot) -> str:
    job = job_of(task)
    return f"{job.title if job else task.name} · {task.id}"
