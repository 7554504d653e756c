"""Which client a request comes from, keyed on what the client cannot forge.

Streamlit's server (uvicorn) believes ``X-Forwarded-For`` from loopback peers by default,
so the address a script run sees can be set by anything that reaches Streamlit's port
from this machine. A forwarded address is trusted only when the operator says a proxy
of theirs sets the header (``TRUSTED_PROXIES``; nginx overwrites what the client sent).
Otherwise every client that sends the header itself shares one key: rotating it gains
nothing, and naming someone else's address does not touch that person's key.
"""

from __future__ import annotations

from collections.abc import Mapping

from taskmgr.settings import read_setting

#: The key of every client that sent its own X-Forwarded-For (no proxy is trusted).
SELF_FORWARDED = "self-forwarded"
#: The key of clients on this machine (Streamlit reports no address for loopback).
LOCAL = "local"


def trusted_proxies() -> frozenset[str]:
    """``TRUSTED_PROXIES``: addresses of proxies that set X-Forwarded-For (none by default)."""
    return read_setting("TRUSTED_PROXIES", frozenset(), _address_list)


def client_key(address: str | None, headers: Mapping[str, str], proxies: frozenset[str]) -> str:
    """The throttling key of a client, from Streamlit's view of its address and headers."""
    forwarded = next((v for k, v in headers.items() if k.lower() == "x-forwarded-for"), None)
    if forwarded is not None and not proxies:
        return SELF_FORWARDED
    return address or LOCAL


def _address_list(raw: object) -> frozenset[str]:
    if not isinstance(raw, str):
        raise ValueError("expected addresses separated by commas")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())
