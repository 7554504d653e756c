"""Values every session of the server sees, that re-render the pages reading them.

Under ``streamlit run`` they live in streamlit-server-state: a page that reads a key
is bound to it, and a write (from any session or thread) reruns the bound pages. Where
server-state cannot work (AppTest, plain Python), a process-local dict stands in, so
the pages still run, only without the push.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

from sessions.runtime import outside_script_runs

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_store: MutableMapping[str, Any] | None = None
_local: dict[str, Any] = {}


def read(key: str, default: Any = None) -> Any:
    """The shared value of ``key``; call it from a script run to have the page follow it."""
    store = _backend()
    try:
        return store.get(key, default)
    except Exception:  # a script run whose session server-state cannot find
        logger.debug("server-state read of %r failed; using the local value", key, exc_info=True)
        return _local.get(key, default)


def read_local(key: str, default: Any = None) -> Any:
    """The value this process last wrote, from any thread, binding no page to it."""
    return _local.get(key, default)


def write(key: str, value: Any) -> None:
    """Set ``key`` for every session; pages that read it rerun when the value changed."""
    store = _backend()
    _local[key] = value
    if store is not _local:
        with outside_script_runs():  # the tracker's thread publishes, by design
            store[key] = value


def is_pushed() -> bool:
    """True when writes rerun the pages that read the key (a real server)."""
    return _backend() is not _local


def _backend() -> MutableMapping[str, Any]:
    global _store
    with _lock:
        if _store is None:
            found = _server_state()  # an empty mapping is falsy: compare with None
            _store = _local if found is None else found
        return _store


def _server_state() -> MutableMapping[str, Any] | None:
    from streamlit import runtime

    if not runtime.exists():
        return None
    try:
        import streamlit_server_state
    except Exception:  # it looks the server up when imported, and fails where there is none
        logger.info("streamlit-server-state is unavailable; shared values stay process-local")
        return None
    store = getattr(streamlit_server_state, "server_state", None)
    return store if isinstance(store, MutableMapping) else None
