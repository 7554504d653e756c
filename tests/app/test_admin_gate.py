"""The password check and the throttle that slows failed attempts down."""

from __future__ import annotations

import hmac

import pytest

from app.admin_gate import LoginThrottle, attempt_login, password_matches


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_password_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)

    assert password_matches("s3cret", "s3cret")
    assert not password_matches("s3cre", "s3cret")
    assert calls == [(b"s3cret", b"s3cret"), (b"s3cre", b"s3cret")]


def test_non_ascii_passwords_compare() -> None:
    assert password_matches("pässwörd", "pässwörd")
    assert not password_matches("passwort", "pässwörd")


def test_each_failure_doubles_the_wait_up_to_a_cap() -> None:
    throttle = LoginThrottle(base_s=1.0, max_s=8.0, clock=FakeClock())

    waits = [throttle.failed("10.0.0.1") for _ in range(6)]

    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_the_wait_runs_out() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    throttle.failed("10.0.0.1")

    assert throttle.wait_s("10.0.0.1") == 1.0
    clock.now += 0.4
    assert throttle.wait_s("10.0.0.1") == pytest.approx(0.6)
    clock.now += 0.6
    assert throttle.wait_s("10.0.0.1") == 0.0


def test_clients_are_throttled_separately() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    throttle.failed("10.0.0.1")

    assert throttle.wait_s("10.0.0.2") == 0.0


def test_success_forgets_the_failures() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    throttle.failed("a")
    clock.now += 1
    throttle.succeeded("a")

    assert throttle.failed("a") == 1.0


def test_failures_long_ago_are_forgotten() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(4):
        throttle.failed("a")
    clock.now += 3600

    assert throttle.failed("a") == 1.0


def test_attempt_during_the_wait_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    assert not attempt_login("guess", "pw", "a", throttle).ok

    outcome = attempt_login("pw", "pw", "a", throttle)

    assert not outcome.ok
    assert outcome.message == "Too many failed attempts. Try again in 1 second."
    clock.now += 1
    assert attempt_login("pw", "pw", "a", throttle).ok


def test_failure_message_says_how_long_to_wait() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    first = attempt_login("x", "pw", "a", throttle)
    clock.now += 1
    second = attempt_login("x", "pw", "a", throttle)

    assert first.message == "Wrong password. You can try again in 1 second."
    assert second.message == "Wrong password. You can try again in 2 seconds."


def test_failures_from_many_addresses_slow_everyone_down() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock, per_minute=5)
    for n in range(5):
        throttle.failed(f"10.0.0.{n}")
        clock.now += 1.0

    assert throttle.server_wait_s() == pytest.approx(55.0)  # the oldest leaves the minute
    outcome = attempt_login("secret", "secret", "10.0.0.99", throttle)
    assert not outcome.ok and "on this server" in outcome.message
    clock.now += 55.0
    assert throttle.server_wait_s() == 0.0
    assert attempt_login("secret", "secret", "10.0.0.99", throttle).ok


def test_settings_set_the_first_wait_and_the_server_wide_rate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_LOGIN_WAIT_S", "5")
    monkeypatch.setenv("ADMIN_LOGIN_FAILURES_PER_MINUTE", "7")
    throttle = LoginThrottle.from_settings()

    assert throttle.failed("10.0.0.1") == 5.0
    assert throttle._per_minute == 7
