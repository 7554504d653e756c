"""The jobs the app offers, by key, in the order they are shown."""

from __future__ import annotations

from jobs import batch_steps, csv_profile, fetch_pages, monte_carlo_pi
from jobs.spec import Job, JobParamError, Param, ParamKind, ResultKind

JOBS: dict[str, Job] = {
    job.key: job for job in (csv_profile.JOB, monte_carlo_pi.JOB, batch_steps.JOB, fetch_pages.JOB)
}


def get_job(key: str) -> Job:
    """The job called ``key``; ``KeyError`` listing the known keys otherwise."""
    try:
        return JOBS[key]
    except KeyError:
        raise KeyError(f"unknown job {key!r}; known jobs: {', '.join(JOBS)}") from None


__all__ = ["JOBS", "Job", "JobParamError", "Param", "ParamKind", "ResultKind", "get_job"]
