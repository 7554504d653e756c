"""A local Dask cluster whose scheduler and workers are processes of their own.

Not a ``LocalCluster``: started from a Streamlit script run, its workers would
re-run the page (Streamlit installs the page as ``__main__``). Processes started
as ``python -m dask spec`` import only what a task needs. They inherit the
environment, which is where they learn the project's path and that a task that
kills its worker is not run again. They are tethered to this process
(``dask_tether``): a ``kill -9`` of it leaves no scheduler or worker behind.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from distributed import SpecCluster
from distributed.deploy.subprocess import SubprocessCluster

from taskmgr.runners import dask_tether

#: The directory holding ``taskmgr``: workers import tasks' modules from it.
PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
#: The scheduler's dashboard (bokeh): loopback only, on a port the system picks.
DASHBOARD_ADDRESS = "127.0.0.1:0"


def cluster_environment() -> None:
    """Make child processes import the project and never retry a task that killed a worker."""
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if PROJECT_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([PROJECT_ROOT, *paths])
    os.environ["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"


def start_local_cluster(slots: int, n_workers: int | None = None) -> SpecCluster:
    """Scheduler and ``n_workers`` worker processes (one per core by default), with
    enough threads between them that each of the manager's ``slots`` has one."""
    cluster_environment()
    # Their INFO lines would land in the server's log (a nanny's output is ours) or fill
    # the scheduler's unread stderr pipe: warnings and errors only, unless configured.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    workers = n_workers or os.cpu_count() or 1
    tether_argv = dask_tether.preload_argv(os.getpid())
    return SubprocessCluster(
        n_workers=workers,
        threads_per_worker=max(1, math.ceil(slots / workers)),
        dashboard_address=DASHBOARD_ADDRESS,
        scheduler_kwargs={"preload": [dask_tether.MODULE], "preload_argv": tether_argv},
        worker_kwargs={
            "preload_nanny": [dask_tether.MODULE],
            "preload_nanny_argv": tether_argv,
        },
    )
