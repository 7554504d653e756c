"""``/api/jobs``: the jobs and their parameters, and submitting one (one route per job)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, HTTPException, Request, status

from api.auth import CallerDep, StateDep
from api.job_models import openapi_body, read_params, request_model
from api.models import JobOut, ParamOut, TaskOut
from jobs import JOBS, Job
from taskmgr import ManagerClosed, QueueFull

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("")
def list_jobs(who: CallerDep) -> list[JobOut]:
    """Every job with its parameters: names, kinds, defaults and ranges."""
    return [job_out(job) for job in JOBS.values()]


def job_out(job: Job) -> JobOut:
    return JobOut(
        key=job.key,
        title=job.title,
        description=job.description,
        result_kind=job.result_kind,
        uploads=any(param.kind == "file" for param in job.params),
        params=[
            ParamOut(
                name=param.name,
                label=param.label,
                kind=param.kind,
                default=None if param.kind == "file" else param.default,
                minimum=param.minimum,
                maximum=param.maximum,
                choices=list(param.choices),
                help=param.help,
                accepted=param.range_text(),
            )
            for param in job.params
        ],
    )


def _submitter(job: Job) -> Callable[..., Awaitable[TaskOut]]:
    model = request_model(job)

    async def submit(request: Request, who: CallerDep, state: StateDep) -> TaskOut:
        params = await read_params(request, job, model)
        task_id = f"{job.key}-{secrets.token_hex(4)}"
        try:
            task = state.manager.submit(task_id, job.fn, params, owner=who.owner, name=job.key)
        except QueueFull as exc:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, str(exc)) from None
        except ManagerClosed:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "shutting down") from None
        state.store.record_params(who.owner, task_id, job.key, params)
        return TaskOut.of(task)

    submit.__doc__ = f"Start {job.title}: {job.description}"
    return submit


for _job in JOBS.values():
    router.add_api_route(
        f"/{_job.key}",
        _submitter(_job),
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        name=f"submit_{_job.key}",
        summary=f"Start {_job.title}",
        openapi_extra=openapi_body(_job, request_model(_job)),
        responses={404: {}, 422: {}, 429: {"description": "the caller's queue is full"}},
    )


@router.post("/{job}", status_code=status.HTTP_201_CREATED, include_in_schema=False)
def unknown_job(job: str, who: CallerDep) -> TaskOut:
    raise HTTPException(
        status.HTTP_404_NOT_FOUND, f"unknown job {job[:60]!r}; known jobs: {', '.join(JOBS)}"
    )
