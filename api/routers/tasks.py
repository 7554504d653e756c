"""``/api/tasks``: the caller's own tasks; anyone else's id is 404, never 403."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.auth import CallerDep, StateDep
from api.models import TaskOut
from api.state import ApiState
from store import StoredTask
from taskmgr import TaskSnapshot, UnknownTask

router = APIRouter(prefix="/api/tasks", tags=["tasks"])


@router.get("")
def list_tasks(who: CallerDep, state: StateDep) -> list[TaskOut]:
    """The caller's tasks, this process's live ones and the stored ones, newest first."""
    return [TaskOut.of(task) for task in owned_tasks(state, who.owner)]


@router.get("/{task_id}", responses={404: {}})
def get_task(task_id: str, who: CallerDep, state: StateDep) -> TaskOut:
    return TaskOut.of(find_task(state, who.owner, task_id))


@router.delete("/{task_id}", responses={404: {}, 409: {"description": "already final"}})
def cancel_task(task_id: str, who: CallerDep, state: StateDep) -> TaskOut:
    """Cancel wherever the task runs; 409 when it has already ended."""
    return cancel(state, who.owner, task_id)


def owned_tasks(state: ApiState, owner: str | None) -> list[TaskSnapshot | StoredTask]:
    """``owner``'s tasks (everyone's for None): what runs here, then what the store has."""
    live: list[TaskSnapshot] = (
        state.manager.list_all_tasks() if owner is None else state.manager.list_tasks(owner)
    )
    here = {(str(task.owner), str(task.id)) for task in live}
    stored = [task for task in state.store.tasks(owner) if task.key not in here]
    tasks: list[TaskSnapshot | StoredTask] = [*live, *stored]
    return sorted(tasks, key=lambda task: task.submitted_at, reverse=True)


def find_task(state: ApiState, owner: str, task_id: str) -> TaskSnapshot | StoredTask:
    try:
        return state.manager.get_result(task_id, owner=owner)
    except UnknownTask:
        pass
    stored = state.sql.task(owner, task_id) if state.store.available else None
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no task {task_id[:80]!r}")
    return stored


def cancel(state: ApiState, owner: str, task_id: str) -> TaskOut:
    task = find_task(state, owner, task_id)
    if task.status.is_final:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"task {task_id[:80]!r} has already ended ({task.status.name})",
        )
    if not state.store.cancel(owner, task_id):
        raise HTTPException(
            status.HTTP_409_CONFLICT, f"task {task_id[:80]!r} could not be cancelled (ended?)"
        )
    return TaskOut.of(find_task(state, owner, task_id))
