"""A local cluster dies with the process that started it, even when that one is killed
with ``kill -9`` and never gets to close it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.support.server import REPO_ROOT
from tests.support.wait import wait_until

pytestmark = pytest.mark.timeout(300)


def alive(process: psutil.Process) -> bool:
    """Still running (a zombie has ended: it only waits for its parent to read it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(processes: list[psutil.Process]) -> str:
    names = []
    for process in processes:
        try:
            names.append(f"{process.pid}: {' '.join(process.cmdline())[:160]}")
        except psutil.Error:
            names.append(f"{process.pid}: (gone)")
    return "\n".join(names)


def start_parent(tmp_path: Path) -> tuple[subprocess.Popen[bytes], Path, Path]:
    ready, log = tmp_path / "ready", tmp_path / "parent.log"
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
    with log.open("wb") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cluster_parent", str(ready)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its cluster too: the teardown can end the whole group
        )
    return parent, ready, log


def test_a_kill_9_of_the_parent_leaves_no_scheduler_or_worker_behind(tmp_path: Path) -> None:
    parent, ready, log = start_parent(tmp_path)
    try:

        def started() -> bool:
            if parent.poll() is not None:
                raise AssertionError(f"the parent exited {parent.returncode}: {log.read_text()}")
            return ready.exists()

        wait_until(started, timeout=180, message=lambda: f"the cluster; {log.read_text()}")
        spawned = psutil.Process(parent.pid).children(recursive=True)
        commands = describe(spawned)
        assert "distributed.Scheduler" in commands, commands
        assert "distributed.Nanny" in commands, commands
        assert "spawn_main" in commands, commands  # the nanny's worker process

        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)

        wait_until(
            lambda: not any(alive(process) for process in spawned),
            timeout=60,
            message=lambda: (
                "the cluster's processes to exit; still running:\n"
                + describe([process for process in spawned if alive(process)])
            ),
        )
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.wait(timeout=30)
