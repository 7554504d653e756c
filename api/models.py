"""The API's response and request bodies (the OpenAPI schema shows them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from store import StoredSession, StoredTask
from taskmgr import TaskSnapshot
from ui.format import error_summary


class TaskOut(BaseModel):
    id: str
    owner: str
    job: str
    status: str = Field(description="The TaskStatus name: INIT, IN_PROGRESS, SUCCESS, ...")
    progress: float | None
    message: str | None
    data: Any = None
    result: Any = None
    error: str | None
    submitted_at: float
    started_at: float | None
    finished_at: float | None
    queue_position: int | None

    @classmethod
    def of(cls, task: TaskSnapshot | StoredTask) -> TaskOut:
        snap = task.to_snapshot() if isinstance(task, StoredTask) else task
        return cls(
            id=str(snap.id),
            owner=str(snap.owner),
            job=str(snap.name),
            status=snap.status.name,
            progress=snap.progress,
            message=snap.message,
            data=_json_safe(snap.data),
            result=_json_safe(snap.result),
            error=None if snap.error is None else error_summary(snap.error),
            submitted_at=snap.submitted_at,
            started_at=snap.started_at,
            finished_at=snap.finished_at,
            queue_position=snap.queue_position,
        )


def _json_safe(value: Any) -> Any:
    """JSON as is; a table as its records; anything else as its one-line text."""
    if value is None or isinstance(value, (str, int, float, bool, list, dict)):
        return value
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        try:
            return to_dict(orient="records")
        except TypeError:
            pass
    return str(value)[:2000]


class ParamOut(BaseModel):
    name: str
    label: str
    kind: str
    default: Any = None
    minimum: float | None
    maximum: float | None
    choices: list[str]
    help: str
    accepted: str = Field(description="The accepted values in words")


class JobOut(BaseModel):
    key: str
    title: str
    description: str
    result_kind: str
    params: list[ParamOut]
    uploads: bool = Field(description="True when the job takes a file: submit it as multipart")


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="Becomes the owner api:<name>")


class TokenOut(BaseModel):
    token: str = Field(description="Shown once; only its hash is kept")
    owner: str
    name: str


class TokenInfo(BaseModel):
    name: str
    owner: str
    created_at: float


class SessionOut(BaseModel):
    session_id: str
    owner: str | None
    state: str
    started_at: float
    last_heartbeat: float | None
    disconnected_at: float | None
    ended_at: float | None
    client_ip: str | None
    page: str | None
    script_runs: int
    process_id: str

    @classmethod
    def of(cls, session: StoredSession) -> SessionOut:
        return cls(
            session_id=session.session_id,
            owner=session.owner,
            state=session.state,
            started_at=session.started_at,
            last_heartbeat=session.last_heartbeat,
            disconnected_at=session.disconnected_at,
            ended_at=session.ended_at,
            client_ip=session.client_ip,
            page=session.page,
            script_runs=session.script_runs,
            process_id=session.process_id,
        )


class HealthOut(BaseModel):
    status: str
    database: str
    detail: str | None = None
    process: str
