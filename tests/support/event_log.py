"""A JSON-lines channel from a test app (on the server) to the test that drives it.

The app writes one object per line with ``EventWriter.write(kind, **fields)``;
each line carries ``kind`` and ``t`` (``time.time()`` when written). The test
reads new lines with ``EventLog`` and waits for the ones it expects. One
``os.write`` on an ``O_APPEND`` descriptor per line keeps lines from different
threads (or processes) whole.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.wait import DEFAULT_TIMEOUT_S, wait_until

Event = dict[str, Any]


class EventWriter:
    """App side: appends events to ``path`` (thread-safe)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, kind: str, **fields: Any) -> None:
        line = json.dumps({"kind": kind, "t": time.time(), **fields}, default=str) + "\n"
        os.write(self._fd, line.encode())

    def close(self) -> None:
        os.close(self._fd)


class EventLog:
    """Test side: the events written so far, re-read incrementally on each call."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.touch()
        self._events: list[Event] = []
        self._offset = 0
        self._partial = b""
        self._lock = threading.Lock()

    def events(self, kind: str | None = None, **match: Any) -> list[Event]:
        """All events so far, optionally only those of ``kind`` whose fields equal ``match``."""
        self._read_new()
        return [
            event
            for event in self._events
            if (kind is None or event["kind"] == kind)
            and all(event.get(key) == value for key, value in match.items())
        ]

    def wait_for(
        self,
        kind: str,
        count: int = 1,
        timeout: float = DEFAULT_TIMEOUT_S,
        where: Callable[[Event], bool] | None = None,
        **match: Any,
    ) -> list[Event]:
        """Wait until at least ``count`` matching events were written; returns them all."""

        def matching() -> list[Event]:
            found = self.events(kind, **match)
            return [event for event in found if where is None or where(event)]

        def describe() -> str:
            return (
                f"{count} {kind!r} event(s) matching {match}; have {len(matching())}; "
                f"last events: {self.events()[-8:]}"
            )

        return wait_until(
            lambda: found if len(found := matching()) >= count else None,
            timeout=timeout,
            message=describe,
        )

    def _read_new(self) -> None:
        with self._lock:
            with self.path.open("rb") as file:
                file.seek(self._offset)
                data = file.read()
            self._offset += len(data)
            data = self._partial + data
            *lines, self._partial = data.split(b"\n")
            self._events.extend(json.loads(line) for line in lines if line.strip())
