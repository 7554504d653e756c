"""Choosing the runner for plain tasks by name: ``threads`` (default) or ``dask``."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from taskmgr.runners.protocol import TaskRunner
from taskmgr.runners.threads import ThreadPoolRunner

if TYPE_CHECKING:
    from taskmgr.context import TaskContext

#: A runner that runs the function itself, elsewhere: ``call(fn, ctx, kwargs)``.
RemoteCall = Callable[[Callable[..., Any], "TaskContext", Mapping[str, Any]], Any]
#: A runner's check at submit: raises for work it could never run.
Vet = Callable[[Callable[..., Any], Mapping[str, Any]], None]

BACKENDS = ("threads", "dask")


def make_runner(backend: str | None, max_workers: int) -> TaskRunner:
    """The runner named ``backend``; None reads ``TASKMGR_BACKEND`` (default threads)."""
    name = (backend or os.environ.get("TASKMGR_BACKEND") or "threads").strip().lower()
    if name == "threads":
        return ThreadPoolRunner(max_workers)
    if name == "dask":
        from taskmgr.runners.dask import DaskRunner  # imports distributed: only when asked

        return DaskRunner(max_workers)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend or name!r}")
