"""A Dask cluster started the way an operator starts one: ``dask scheduler`` and
``dask worker`` processes, each in a process group of its own, stopped for sure."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]


def cluster_env() -> dict[str, str]:
    """Workers import the project's modules; a task that kills its worker is not re-run."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"
    return env


class DaskCluster:
    """One scheduler and ``workers`` single-process workers on 127.0.0.1."""

    def __init__(self, tmp: Path, workers: int = 2, nthreads: int = 2) -> None:
        self._file = tmp / "scheduler.json"
        self._log = tmp / "dask.log"
        self._workers = workers
        self._nthreads = nthreads
        self.scheduler: subprocess.Popen[bytes] | None = None
        self.worker_procs: list[subprocess.Popen[bytes]] = []
        self.address = ""

    def start(self) -> DaskCluster:
        self.scheduler = self._spawn(
            *("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
            *("--scheduler-file", str(self._file)),
        )
        self.address = wait_until(self._read_address, timeout=60, message=self._why)
        for i in range(self._workers):
            self.worker_procs.append(
                self._spawn(
                    *("worker", self.address, "--nthreads", str(self._nthreads)),
                    *("--no-dashboard", "--name", f"w{i}", "--host", "127.0.0.1"),
                )
            )
        return self

    def stop(self) -> None:
        for proc in [*self.worker_procs, self.scheduler]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    def kill_scheduler(self) -> None:
        assert self.scheduler is not None
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        with self._log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                env=cluster_env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _read_address(self) -> str | None:
        try:
            return str(json.loads(self._file.read_text())["address"])
        except (OSError, ValueError, KeyError):
            return None

    def _why(self) -> str:
        return "the Dask scheduler to start; log:\n" + self._log.read_text()[-2000:]
