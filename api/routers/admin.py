"""``/api/admin``: every owner's tasks and the sessions; cancel anyone's task (admin token)."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import AdminDep, StateDep
from api.models import SessionOut, TaskOut
from api.routers.tasks import cancel, owned_tasks

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/tasks")
def all_tasks(who: AdminDep, state: StateDep) -> list[TaskOut]:
    """Every owner's tasks, from every process (through the store)."""
    return [TaskOut.of(task) for task in owned_tasks(state, None)]


@router.get("/sessions")
def sessions(who: AdminDep, state: StateDep) -> list[SessionOut]:
    """Browser sessions of every Streamlit process, live and ended, newest first."""
    return [SessionOut.of(session) for session in state.store.sessions()]


@router.delete("/tasks/{owner}/{task_id}", responses={404: {}, 409: {}})
def cancel_any(owner: str, task_id: str, who: AdminDep, state: StateDep) -> TaskOut:
    """Cancel a task wherever it runs: the store tells its process."""
    return cancel(state, owner, task_id)
