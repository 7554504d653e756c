"""Ties a local cluster's scheduler and nannies to the process that started them.

Loaded into those processes as a Dask preload (``--parent-pid`` names the starter):
when the starter dies, even by ``kill -9`` with no chance to close its cluster, the
kernel kills them (Linux ``PR_SET_PDEATHSIG``); elsewhere a thread notices within a
second that their parent changed. A nanny's worker process exits with its nanny
(distributed closes a pipe between them), so nothing of the cluster is left behind.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

import click

#: The preload's module name, for ``preload`` / ``preload_nanny``.
MODULE = __name__
#: ``prctl`` option from <linux/prctl.h>.
_PR_SET_PDEATHSIG = 1
#: How often the fallback watch looks at the parent (platforms without prctl).
_WATCH_S = 1.0


def preload_argv(parent_pid: int) -> list[str]:
    """The preload's arguments for a process started by ``parent_pid``."""
    return ["--parent-pid", str(parent_pid)]


@click.command()
@click.option("--parent-pid", type=int, required=True, help="the process that started us")
def dask_setup(server: object, parent_pid: int) -> None:
    """Dask's preload hook: runs in the scheduler or nanny as it starts."""
    tether(parent_pid)


def tether(parent_pid: int) -> None:
    """End this process when ``parent_pid`` (its parent) dies, or at once if it already has."""
    if _die_with_parent():
        # Set after the parent may have died: a parent that changed already means it did.
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGKILL)
        return
    threading.Thread(
        target=_watch_parent, args=(parent_pid,), name="dask-tether", daemon=True
    ).start()


def _die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent ends; False where it cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(_WATCH_S)  # ok: no event exists for "my parent died" here
    os._exit(1)
