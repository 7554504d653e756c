"""The real long-running jobs the app offers: plain task functions ``fn(ctx, **params)``."""

from jobs.registry import JOBS, Job, JobParamError, Param, ParamKind, ResultKind, get_job

__all__ = ["JOBS", "Job", "JobParamError", "Param", "ParamKind", "ResultKind", "get_job"]
