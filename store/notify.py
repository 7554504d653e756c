"""Waiting for a cancel: PostgreSQL LISTEN/NOTIFY where there is one, a timed wait otherwise."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy.engine import URL

logger = logging.getLogger(__name__)


class CancelWakeup:
    """``wait(seconds)`` returns early when a cancel for this process is announced.

    Without PostgreSQL (or when its listening connection is lost) it is a plain timed
    wait: the heartbeat then polls the store for cancels once per beat.
    """

    def __init__(self, url: URL, channel: str) -> None:
        self._wake = threading.Event()
        self._channel = channel
        self._conninfo = (
            url.set(drivername="postgresql").render_as_string(hide_password=False)
            if url.get_backend_name() == "postgresql"
            else None
        )
        self._connection: Any = None

    def wait(self, seconds: float) -> bool:
        """True when woken by a notification (or ``wake()``), False at the timeout."""
        if self._conninfo is None or self._wake.is_set():
            woken = self._wake.wait(seconds)
            self._wake.clear()
            return woken
        try:
            connection = self._listening()
            for _ in connection.notifies(timeout=seconds, stop_after=1):
                return True
        except Exception as exc:  # the server went away: fall back to the timed wait
            logger.info("store: LISTEN connection lost (%s); polling until it is back", exc)
            self._drop()
            woken = self._wake.wait(seconds)
            self._wake.clear()
            return woken
        return False

    def wake(self) -> None:
        """End the current wait now (on PostgreSQL, by a notification to ourselves)."""
        self._wake.set()
        if self._conninfo is None or self._connection is None:
            return
        try:
            import psycopg

            with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=3) as own:
                own.execute("SELECT pg_notify(%s, 'wake')", (self._channel,))
        except Exception as exc:  # away: the wait ends at its timeout instead
            logger.debug("store: could not wake the LISTEN wait: %s", exc)

    def close(self) -> None:
        self._drop()

    def _listening(self) -> Any:
        if self._connection is None:
            import psycopg

            connection = psycopg.connect(self._conninfo or "", autocommit=True, connect_timeout=3)
            connection.execute(f'LISTEN "{self._channel}"')
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.debug("store: closing the LISTEN connection failed", exc_info=True)
