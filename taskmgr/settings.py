"""Settings read from the environment first, then ``st.secrets``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class SettingError(ValueError):
    """A configured value cannot be used; the message names the setting."""


def read_setting(name: str, default: T, parse: Callable[[Any], T]) -> T:
    """``name`` from the environment, else from ``st.secrets``, else ``default``."""
    raw: Any = os.environ.get(name)
    if raw is None or raw == "":
        raw = _from_secrets(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except (TypeError, ValueError) as exc:
        raise SettingError(f"setting {name}={raw!r} is not valid: {exc}") from None


def positive_int(raw: Any) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("expected a whole number of at least 1")
    return value


def positive_float(raw: Any) -> float:
    value = float(raw)
    if not value > 0 or value == float("inf"):
        raise ValueError("expected a positive number")
    return value


def non_negative_float(raw: Any) -> float:
    value = float(raw)
    if not value >= 0 or value == float("inf"):
        raise ValueError("expected a number of at least 0")
    return value


def _from_secrets(name: str) -> Any:
    """The secret, or None when there is no secrets file or no such key."""
    try:
        import streamlit as st

        return st.secrets.get(name)
    except Exception:  # no secrets.toml, or a malformed one: settings fall back to defaults
        return None
