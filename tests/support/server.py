"""A real ``streamlit run`` server on a free loopback port, for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from tests.support.wait import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Flags every test server gets: loopback only, no browser, no telemetry or file watching.
BASE_OPTIONS: Mapping[str, str] = {
    "server.address": "127.0.0.1",
    "server.headless": "true",
    "browser.gatherUsageStats": "false",
    "server.fileWatcherType": "none",
    "server.runOnSave": "false",
    "global.developmentMode": "false",
}


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class StreamlitServer:
    """``streamlit run app`` in a subprocess; ``start()`` returns once it answers its health check.

    The repository root is on ``PYTHONPATH`` so the app can import the project's
    packages and ``tests.support``, and is the server's working directory, so it reads
    the repository's ``.streamlit/config.toml`` as ``./main.sh`` does. ``env`` adds to
    (and overrides) this process's environment; ``options`` adds ``--name value``
    Streamlit flags. The server's output goes to ``log_path``; ``log_tail()`` shows the
    end of it.
    """

    def __init__(
        self,
        app: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
        log_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.app = Path(app).resolve()
        self.env = dict(env or {})
        self.options = {**BASE_OPTIONS, **(options or {})}
        if log_path is None:
            handle, log_path = tempfile.mkstemp(prefix="streamlit-", suffix=".log")
            os.close(handle)
        self.log_path = Path(log_path)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/_stcore/stream"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 60.0, attempts: int = 3) -> StreamlitServer:
        """Start on a free port (another one if that one was taken meanwhile)."""
        for attempt in range(attempts):
            self.port = free_port()
            self._spawn()
            try:
                wait_until(self._healthy, timeout=timeout, interval=0.1, message=self._why_not)
                return self
            except AssertionError:
                self.stop()
                if attempt == attempts - 1 or "address already in use" not in self.log_tail():
                    raise
        raise AssertionError("unreachable")

    def stop(self, timeout: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> StreamlitServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _command(self) -> Sequence[str]:
        command = [sys.executable, "-m", "streamlit", "run", str(self.app)]
        for name, value in {**self.options, "server.port": str(self.port)}.items():
            command += [f"--{name}", value]
        return command

    def _spawn(self) -> None:
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
        )
        env.setdefault("PYTHONUNBUFFERED", "1")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self._command(),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _healthy(self) -> bool:
        if self._process is None or self._process.poll() is not None:
            raise AssertionError(f"streamlit exited early:\n{self.log_tail()}")
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def _why_not(self) -> str:
        return f"streamlit on port {self.port} to answer /_stcore/health; log:\n{self.log_tail()}"
