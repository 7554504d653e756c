"""The Admin page's password gate: constant-time check, failed attempts slowed down."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from taskmgr.settings import positive_float, positive_int, read_setting

#: After this long without a failure, a client starts again from the shortest wait.
_FORGET_AFTER_S = 600.0
#: The window of the server-wide slow-down.
_WINDOW_S = 60.0


def admin_password() -> str | None:
    """``ADMIN_PASSWORD`` from the environment or ``st.secrets``; None when not configured."""
    value = read_setting("ADMIN_PASSWORD", "", str).strip()
    return value or None


def password_matches(given: str, expected: str) -> bool:
    """Compare in constant time, so the answer's timing tells nothing about the password."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass
class _Failures:
    count: int
    last_at: float
    locked_until: float


class LoginThrottle:
    """Per client, each failed attempt doubles the wait before the next one is accepted;
    server-wide, past ``per_minute`` failures in a minute every attempt waits.

    Keyed by client (``client_address.client_key``) rather than by session, so opening a
    new tab does not reset the wait. A success clears the client's record. The
    server-wide slow-down catches a guess spread over many addresses; it can also delay
    the operator during such an attack, which is the price of slowing it.
    """

    def __init__(
        self,
        base_s: float = 1.0,
        max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        per_minute: int = 30,
    ) -> None:
        self._base_s = base_s
        self._max_s = max_s
        self._clock = clock
        self._per_minute = per_minute
        self._lock = threading.Lock()
        self._failures: dict[str, _Failures] = {}
        self._recent: deque[float] = deque()  # every client's failures in the last minute

    @classmethod
    def from_settings(cls) -> LoginThrottle:
        """``ADMIN_LOGIN_WAIT_S`` (first wait, doubled per failure, 1 s by default) and
        ``ADMIN_LOGIN_FAILURES_PER_MINUTE`` (server-wide, 30 by default)."""
        base_s = read_setting("ADMIN_LOGIN_WAIT_S", 1.0, positive_float)
        return cls(
            base_s=base_s,
            max_s=max(30.0, base_s),
            per_minute=read_setting("ADMIN_LOGIN_FAILURES_PER_MINUTE", 30, positive_int),
        )

    def wait_s(self, client: str) -> float:
        """Seconds before ``client`` may try again; 0 when it may try now."""
        with self._lock:
            record = self._failures.get(client)
            return 0.0 if record is None else max(0.0, record.locked_until - self._clock())

    def server_wait_s(self) -> float:
        """Seconds before anyone may try again, once the server-wide rate is reached."""
        now = self._clock()
        with self._lock:
            self._drop_old_failures_locked(now)
            if len(self._recent) < self._per_minute:
                return 0.0
            return max(0.0, self._recent[-self._per_minute] + _WINDOW_S - now)

    def failed(self, client: str) -> float:
        """Record a failed attempt; returns how long the client must now wait."""
        now = self._clock()
        with self._lock:
            self._forget_old_locked(now)
            self._recent.append(now)
            record = self._failures.get(client)
            count = 1 if record is None else record.count + 1
            wait = min(self._max_s, self._base_s * 2.0 ** (count - 1))
            self._failures[client] = _Failures(count, now, now + wait)
            return wait

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)

    def _drop_old_failures_locked(self, now: float) -> None:
        while self._recent and now - self._recent[0] > _WINDOW_S:
            self._recent.popleft()

    def _forget_old_locked(self, now: float) -> None:
        stale = [k for k, r in self._failures.items() if now - r.last_at > _FORGET_AFTER_S]
        for key in stale:
            del self._failures[key]


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt did: let the user in, or a message saying why not."""

    ok: bool
    message: str = ""


def attempt_login(given: str, expected: str, client: str, throttle: LoginThrottle) -> LoginOutcome:
    """Check ``given`` unless the client must still wait after earlier failures."""
    wait = throttle.wait_s(client)
    if wait > 0:
        return LoginOutcome(False, f"Too many failed attempts. Try again in {_seconds(wait)}.")
    wait = throttle.server_wait_s()
    if wait > 0:
        return LoginOutcome(
            False,
            f"Too many failed attempts on this server just now. Try again in {_seconds(wait)}.",
        )
    if password_matches(given, expected):
        throttle.succeeded(client)
        return LoginOutcome(True)
    wait = throttle.failed(client)
    return LoginOutcome(False, f"Wrong password. You can try again in {_seconds(wait)}.")


def _seconds(value: float) -> str:
    whole = max(1, round(value + 0.49))
    return f"{whole} second" if whole == 1 else f"{whole} seconds"
