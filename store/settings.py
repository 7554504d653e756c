"""The store's settings, from the environment first, then ``st.secrets``."""

from __future__ import annotations

from dataclasses import dataclass

from store.codec import DEFAULT_MAX_VALUE_BYTES
from store.url import database_url
from store.writer import DEFAULT_MAX_HELD
from taskmgr.settings import positive_float, positive_int, read_setting


@dataclass(frozen=True)
class StoreSettings:
    url: str
    #: Seconds between a process's heartbeats (and its polls for cancels, without NOTIFY).
    heartbeat_s: float = 2.0
    #: A process silent this long is dead: its unfinished tasks become INTERRUPTED.
    dead_after_s: float = 10.0
    #: Finished tasks, ended sessions and stopped processes are kept this long.
    retention_s: float = 7 * 24 * 3600.0
    max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES
    max_held: int = DEFAULT_MAX_HELD

    @classmethod
    def from_env(cls) -> StoreSettings:
        heartbeat_s = read_setting("STORE_HEARTBEAT_S", 2.0, positive_float)
        return cls(
            url=database_url(),
            heartbeat_s=heartbeat_s,
            dead_after_s=read_setting(
                "STORE_DEAD_AFTER_S", max(10.0, 5 * heartbeat_s), positive_float
            ),
            retention_s=read_setting("STORE_RETENTION_S", cls.retention_s, positive_float),
            max_value_bytes=read_setting(
                "STORE_MAX_VALUE_BYTES", DEFAULT_MAX_VALUE_BYTES, positive_int
            ),
            max_held=read_setting("STORE_MAX_HELD", DEFAULT_MAX_HELD, positive_int),
        )
