"""The real long-running jobs the app offers: task functions ``fn(ctx, **params)``, plain or
``async def``."""

from jobs.registry import JOBS, Job, JobParamError, Param, ParamKind, ResultKind, get_job

__all__ = ["JOBS", "Job", "JobParamError", "Param", "ParamKind", "ResultKind", "get_job"]
