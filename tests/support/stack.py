"""The whole stack as ``./main.sh`` starts it (nginx, Streamlit replicas, the API), for tests
and benchmarks: free ports, a temporary database, its own process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.support.server import REPO_ROOT, free_port
from tests.support.wait import wait_until

ADMIN_TOKEN = "test-admin-token"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def can_listen(port: int) -> bool:
    """A server could listen on ``port`` now (as servers do, with SO_REUSEADDR, so the
    TIME_WAIT connections a closed server leaves behind do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
            sock.listen()
        except OSError:
            return False
        return True


def free_ports(count: int) -> list[int]:
    """``count`` consecutive free ports (the replicas take STREAMLIT_PORT upwards)."""

    def found() -> list[int] | None:
        first = free_port()
        ports = list(range(first, first + count))
        return ports if all(port_is_free(port) for port in ports) else None

    return wait_until(found, timeout=10, message="consecutive free ports")


class Stack:
    """``./main.sh`` in a new session; ``start()`` returns once nginx answers /api/health."""

    def __init__(self, *, replicas: int = 1, env: Mapping[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="taskpool-stack-test-"))
        self.replicas = replicas
        self.streamlit_ports = free_ports(replicas)
        self.api_port = free_port()
        self.port = free_port()
        self.env = {
            **os.environ,
            "PORT": str(self.port),
            "STREAMLIT_PORT": str(self.streamlit_ports[0]),
            "API_PORT": str(self.api_port),
            "STREAMLIT_REPLICAS": str(replicas),
            "API_TOKEN": ADMIN_TOKEN,
            "DATABASE_URL": f"sqlite:///{self.dir / 'app.db'}",
            "STORE_HEARTBEAT_S": "0.5",
            "STORE_DEAD_AFTER_S": "3",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ports(self) -> list[int]:
        return [self.port, self.api_port, *self.streamlit_ports]

    def start(self, timeout: float = 120.0) -> Stack:
        self.starts += 1
        log = open(self.dir / f"main-{self.starts}.log", "wb")  # noqa: SIM115 (kept by Popen)
        self.process = subprocess.Popen(
            [str(REPO_ROOT / "main.sh")],
            cwd=REPO_ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(self._healthy, timeout=timeout, message=self._describe)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"./main.sh exited {self.process.returncode}: {self.log_tail()}")
        try:
            return httpx.get(f"{self.url}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _describe(self) -> str:
        return f"the stack to answer through nginx; log: {self.log_tail()}"

    def log_tail(self, chars: int = 3000) -> str:
        text = (self.dir / f"main-{self.starts}.log").read_bytes().decode(errors="replace")
        return text[-chars:]

    def kill_group(self) -> None:
        """``kill -9`` of the whole process group: a crash, nothing cleans up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM to the script, as a service manager sends; its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def group_alive(self) -> bool:
        assert self.process is not None
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """Whatever is left of the group goes (the fixture's teardown)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.terminate()
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
