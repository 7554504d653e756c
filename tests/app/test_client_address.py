"""The throttling key: a forwarded address counts only when a configured proxy set it."""

from __future__ import annotations

import pytest

from app.client_address import LOCAL, SELF_FORWARDED, client_key, trusted_proxies


def test_without_a_forwarded_header_the_address_is_the_key() -> None:
    assert client_key("198.51.100.7", {"User-Agent": "x"}, frozenset()) == "198.51.100.7"
    assert client_key(None, {}, frozenset()) == LOCAL


def test_a_header_the_client_set_itself_gives_one_shared_key() -> None:
    keys = {
        client_key(address, {"x-forwarded-for": address}, frozenset())
        for address in ("203.0.113.1", "203.0.113.2", "198.51.100.7")
    }
    assert keys == {SELF_FORWARDED}


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_key() -> None:
    proxies = frozenset({"127.0.0.1"})
    headers = {"X-Forwarded-For": "203.0.113.1"}
    assert client_key("203.0.113.1", headers, proxies) == "203.0.113.1"


def test_trusted_proxies_come_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", " 127.0.0.1, ::1 ,")
    assert trusted_proxies() == frozenset({"127.0.0.1", "::1"})
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert trusted_proxies() == frozenset()
