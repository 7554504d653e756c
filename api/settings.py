"""The API process's settings, from the environment first, then ``.streamlit/secrets.toml``."""

from __future__ import annotations

from dataclasses import dataclass

from taskmgr.settings import positive_int, read_setting

DEFAULT_API_PORT = 8502


@dataclass(frozen=True)
class ApiSettings:
    #: The admin token; empty means no admin (and no user tokens can be issued).
    admin_token: str
    port: int

    @classmethod
    def from_env(cls) -> ApiSettings:
        return cls(
            admin_token=read_setting("API_TOKEN", "", str).strip(),
            port=read_setting("API_PORT", DEFAULT_API_PORT, positive_int),
        )
