"""The one adapter over Streamlit internals: what the session tracker needs, and
``index_config_sections`` (a per-run cost of Streamlit's own, cut for many polling tabs).

Streamlit has no public API to list sessions or to learn that one ended. What
this package needs from the runtime is read here and nowhere else, behind
``check_streamlit_version`` and a guard for ``Runtime.exists()``, so that a
Streamlit upgrade breaks (at most) one file, and degrades instead of crashing:
when listing is unavailable (``python app.py``, ``AppTest``, changed internals),
``active_sessions()`` returns None and the tracker relies on registrations and
the session-end hook alone. The reads of one session's data never raise (None
instead, logged once): one odd session must not stop the tracking of the others.

Threading: the runtime's session manager is meant for its event-loop thread.
``active_sessions`` only copies ``dict.values()`` of its active-session map into
a list, which CPython does in one step under the GIL (no Python code runs while
it copies), and retries if a resize races it. Nothing here mutates the runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Final, NamedTuple, TypeAlias

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.app_session import AppSession
from streamlit.runtime.scriptrunner import ScriptRunContext, get_script_run_ctx
from streamlit.runtime.scriptrunner_utils import script_run_context

logger = logging.getLogger(__name__)

#: Streamlit versions (major.minor) this adapter was run against with the full test suite.
TESTED_STREAMLIT_VERSIONS: Final[tuple[str, ...]] = ("1.67",)

#: What makes ``st.session_state`` of one session reachable from a thread.
ScriptContext: TypeAlias = ScriptRunContext

#: Called with (session_id, time.monotonic() of the release) when a session's hook fires.
ReleaseNotify = Callable[[str, float], None]

_LIST_RETRIES: Final = 5
#: Streamlit's default ``server.disconnectedSessionTTL``.
_DEFAULT_DISCONNECTED_SESSION_TTL_S: Final = 120.0

#: The thread attribute where ``get_script_run_ctx`` looks for a thread's context.
_CONTEXT_ATTRIBUTE: Final = str(
    getattr(script_run_context, "SCRIPT_RUN_CONTEXT_ATTR_NAME", "streamlit_script_run_ctx")
)


class UntestedStreamlitVersion(RuntimeWarning):
    """The installed Streamlit is not in ``TESTED_STREAMLIT_VERSIONS``."""


#: The runtime's record of one connected session (opaque outside this module).
Handle: TypeAlias = Any


class ActiveSessions(NamedTuple):
    """The sessions with a connected browser right now, by session id."""

    handles: dict[str, Handle]
    #: Identity of each record: Streamlit makes a new one when it resumes a session
    #: onto a new connection, so comparing these dicts finds starts, ends and resumes.
    keys: dict[str, int]


@dataclass(frozen=True, slots=True)
class ClientDetails:
    user_agent: str | None
    client_ip: str | None


def streamlit_version() -> str:
    return str(st.__version__)


_version_checked = False
_once_lock = threading.Lock()
#: What failed at least once in reaching a session's runtime data (logged in full once).
_failed_accesses: set[str] = set()


def check_streamlit_version() -> bool:
    """True when the installed Streamlit was tested; warns once (log and warning) otherwise."""
    global _version_checked
    version = streamlit_version()
    tested = ".".join(version.split(".")[:2]) in TESTED_STREAMLIT_VERSIONS
    with _once_lock:
        if tested or _version_checked:
            return tested
        _version_checked = True
    message = (
        f"sessions: Streamlit {version} is not among the versions this session tracker "
        f"was tested with ({', '.join(TESTED_STREAMLIT_VERSIONS)}). It reads private "
        "runtime internals (see sessions/runtime.py); if they changed, it falls back to "
        "registrations and session-end hooks only. Run tests/sessions to confirm."
    )
    logger.warning(message)
    warnings.warn(message, UntestedStreamlitVersion, stacklevel=2)
    return False


def _session_manager() -> Any | None:
    """The running server's session manager, or None (no server, or AppTest's mock runtime)."""
    if not Runtime.exists():
        return None
    try:
        manager = Runtime.instance()._session_mgr
    except (AttributeError, RuntimeError):
        return None
    return manager if callable(getattr(manager, "list_active_sessions", None)) else None


def active_sessions() -> ActiveSessions | None:
    """The sessions with a connected browser; None when the runtime cannot be listed.

    Copies the runtime's map of active sessions with C-level dict operations only
    (no Python code runs, so the GIL is never released in between): cheap, and
    consistent however the event loop changes the map meanwhile.
    """
    manager = _session_manager()
    if manager is None:
        return None
    by_id = getattr(manager, "_active_session_info_by_id", None)
    for _ in range(_LIST_RETRIES):
        try:
            if isinstance(by_id, dict):
                handles = dict(by_id)
            else:
                handles = {info.session.id: info for info in manager.list_active_sessions()}
            break
        except RuntimeError:  # resized while copied: try again
            continue
        except AttributeError:
            logger.exception("sessions: the runtime's session records changed shape")
            return None
    else:
        return None
    return ActiveSessions(handles, dict(zip(handles, map(id, handles.values()), strict=True)))


def handle_key(handle: Handle) -> int:
    """The identity ``ActiveSessions.keys`` holds for this record."""
    return id(handle)


def _access_failed(what: str) -> None:
    """Reaching one session's runtime data raised: log it (in full the first time).

    The per-session functions below never raise: one session of an unexpected
    shape must not stop the tracker from following the others.
    """
    with _once_lock:
        first = what not in _failed_accesses
        _failed_accesses.add(what)
    if first:
        logger.warning("sessions: could not %s; going on without it", what, exc_info=True)
    else:
        logger.debug("sessions: could not %s", what, exc_info=True)


def disconnected_session_ttl() -> float:
    """How long Streamlit keeps a session after its browser left (it may resume, or run)."""
    try:
        return float(st.config.get_option("server.disconnectedSessionTTL"))
    except Exception:
        _access_failed("read server.disconnectedSessionTTL")
        return _DEFAULT_DISCONNECTED_SESSION_TTL_S


def find_active(session_id: str) -> Handle | None:
    """The session's record if its browser is connected now (one dict lookup)."""
    manager = _session_manager()
    if manager is None:
        return None
    try:
        return manager.get_active_session_info(session_id)
    except Exception:
        _access_failed("find an active session")
        return None


def script_runs(handle: Handle) -> int | None:
    """Completed script runs of the session (the runtime counts them as it sends results)."""
    try:
        return int(handle.script_run_count)
    except Exception:
        _access_failed("read a session's script run count")
        return None


def page_hash(handle: Handle) -> str | None:
    """The hash of the page the session's latest run is on ("" before its first run)."""
    try:
        return str(handle.session.page_script_hash)
    except Exception:
        _access_failed("read a session's page")
        return None


def client_details(handle: Handle) -> ClientDetails:
    """User agent and IP from the websocket handshake of the session's current client."""
    try:
        context = getattr(handle.client, "client_context", None)
        if context is None:
            return ClientDetails(None, None)
        user_agent = None
        for name, value in context.headers:
            if name.lower() == "user-agent":
                user_agent = value
                break
        return ClientDetails(user_agent, context.remote_ip)
    except Exception:
        _access_failed("read a session's client")
        return ClientDetails(None, None)


def page_name(handle: Handle, page: str) -> str | None:
    """The name of page ``page`` (a page hash) of the session's app; None if unknown."""
    if not page:
        return None
    try:
        return _page_name(handle.session.get_pages(), page)
    except Exception:
        _access_failed("read a session's page names")
        return None


def _page_name(pages: Any, page: str) -> str | None:
    info = pages.get(page)
    if info is None and len(pages) == 1:  # a one-page app lists its script under another hash
        info = next(iter(pages.values()))
    if info is None:
        return None
    name = info.get("page_name") or info.get("url_pathname")
    if not name and info.get("script_path"):
        name = PurePath(str(info["script_path"])).stem
    return str(name) if name else None


def detached_context(handle: Handle) -> ScriptContext | None:
    """A script context that reaches the session's ``st.session_state`` from any thread."""
    try:
        factory = getattr(handle.session, "create_detached_script_run_ctx", None)
        if factory is None:
            return None
        return factory(query_string="", context_info=None)  # type: ignore[no-any-return]
    except Exception:
        _access_failed("make a script context for a session")
        return None


def session_value(context: ScriptContext | None, key: str) -> object | None:
    """``st.session_state[key]`` of the context's session, from any thread; None if unset.

    A context without session state (a stand-in, or none at all) has no value.
    """
    state = getattr(context, "session_state", None)
    if state is None:
        return None
    try:
        value: object = state[key]
    except KeyError:
        return None
    except Exception:
        _access_failed("read a session's state")
        return None
    return value


def set_session_value(context: ScriptContext, key: str, value: object) -> None:
    """Set ``st.session_state[key]`` of the context's session (from its script run).

    Streamlit's own stop and rerun requests (BaseExceptions) go through, as from
    any ``st.session_state`` write.
    """
    state = getattr(context, "session_state", None)
    if state is None:
        return
    try:
        state[key] = value
    except Exception:
        _access_failed("write a session's state")


#: The cookie Streamlit's server sets on every browser (XSRF protection, on by default).
BROWSER_COOKIE: Final = "_streamlit_xsrf"
#: Fewer secret bytes than this are not a server-issued token (Streamlit issues 16).
_MIN_SECRET_BYTES: Final = 16


def browser_secret() -> bytes | None:
    """The secret in this browser's server-issued cookie, from a script run; None without one.

    Streamlit's server gives every browser a random 16-byte token in its XSRF cookie (on
    the health check the page makes as it loads) and keeps it on later responses; the
    browser sends it with the websocket handshake, which ``st.context.cookies`` shows.
    The cookie value is masked afresh on every response, so the token is unmasked here
    (private format: ``2|mask|masked token|timestamp``).
    """
    try:
        raw = st.context.cookies.get(BROWSER_COOKIE)
    except Exception:
        _access_failed("read the browser's cookies")
        return None
    return secret_from_cookie(raw) if isinstance(raw, str) and raw else None


def secret_from_cookie(raw: str) -> bytes | None:
    """The token inside a value of Streamlit's XSRF cookie; None when it holds none."""
    try:
        from streamlit.web.server.starlette.starlette_app_utils import (
            decode_xsrf_token_string,
        )

        token, _ = decode_xsrf_token_string(raw)
    except Exception:
        _access_failed("decode the browser's XSRF cookie")
        return None
    if not isinstance(token, bytes) or len(token) < _MIN_SECRET_BYTES:
        return None
    return token


def current_context() -> ScriptContext | None:
    """The script context of the calling thread (a script run), or None in bare mode."""
    return get_script_run_ctx(suppress_warning=True)


def current_page_hash() -> str | None:
    """The page this script run draws (Streamlit's hash of it); None outside a script run."""
    context = current_context()
    page = getattr(context, "page_script_hash", None)
    return page if isinstance(page, str) else None


class _QuietThreads(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" warning on threads that asked for it."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(self.local, "quiet", False):
            return True
        return "missing ScriptRunContext" not in record.getMessage()


_quiet_threads = _QuietThreads()
logging.getLogger(script_run_context.__name__).addFilter(_quiet_threads)


@contextlib.contextmanager
def outside_script_runs() -> Iterator[None]:
    """For code that uses ``st`` APIs from a background thread on purpose (a write to
    server-state, which reruns the pages that read it): Streamlit's warning that the thread
    has no script run context says nothing there, and would fill the log."""
    previous = getattr(_quiet_threads.local, "quiet", False)
    _quiet_threads.local.quiet = True
    try:
        yield
    finally:
        _quiet_threads.local.quiet = previous


def current_session_is_gone() -> bool:
    """True in a script run whose session has no browser any more.

    Streamlit keeps a closed tab's session for ``server.disconnectedSessionTTL``, and a
    rerun pushed to it (streamlit-server-state does so) still runs the script.
    """
    context = current_context()
    if context is None or not Runtime.exists():
        return False
    try:
        return Runtime.instance().is_active_session(context.session_id) is False
    except Exception:
        _access_failed("ask whether a session is active")
        return False


def callback_context(session_id: str) -> ScriptContext | None:
    """From a script run: a context for that session's callbacks on another thread.

    A detached context drops anything a callback draws and never requests a rerun;
    under AppTest (no real runtime) the run's own context is the only one there is.
    """
    if Runtime.exists():
        try:
            session = Runtime.instance().get_app_session(session_id)
        except Exception:
            session = None
        if isinstance(session, AppSession):
            try:
                return session.create_detached_script_run_ctx(query_string="", context_info=None)
            except Exception:
                logger.exception("sessions: could not make a script context for a session")
    return current_context()


def call_in_session(context: ScriptContext | None, fn: Callable[[], object]) -> None:
    """Call ``fn()`` on this thread with ``context`` attached, so ``st.session_state`` works."""
    if context is None:
        fn()
        return
    thread = threading.current_thread()
    previous = getattr(thread, _CONTEXT_ATTRIBUTE, None)
    setattr(thread, _CONTEXT_ATTRIBUTE, context)
    try:
        fn()
    finally:
        setattr(thread, _CONTEXT_ATTRIBUTE, previous)


def clear_session_state(context: ScriptContext | None) -> None:
    """Empty the context's session's ``st.session_state`` (from any thread)."""
    if context is None:
        return
    try:
        call_in_session(context, st.session_state.clear)
    except Exception:
        _access_failed("clear a session's state")


def runtime_instance() -> Runtime | None:
    """Streamlit's runtime, or None where there is none (bare Python, AppTest)."""
    return Runtime.instance() if Runtime.exists() else None


class _ReleaseHook:
    """The value cached per session; its release means the session lost its browser."""

    __slots__ = ("notify", "session_id")

    def __init__(self, session_id: str, notify: ReleaseNotify) -> None:
        self.session_id = session_id
        self.notify = notify


def _on_release(hook: _ReleaseHook) -> None:
    released = time.monotonic()
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        hook.notify(hook.session_id, released)
        return
    # Streamlit releases session caches before it removes the session from its
    # active map; notify once the disconnect that called us has finished.
    loop.call_soon(hook.notify, hook.session_id, released)


@st.cache_resource(scope="session", on_release=_on_release, show_spinner=False)
def _release_hook(session_id: str, _notify: ReleaseNotify) -> _ReleaseHook:
    return _ReleaseHook(session_id, _notify)


def arm_release_hook(
    session_id: str, notify: ReleaseNotify, context: ScriptContext | None = None
) -> bool:
    """Make sure ``notify`` hears when this session disconnects (or is shut down).

    Streamlit clears a session's session-scoped cache on every disconnect, also a
    brief one that it later resumes, so the hook has to be armed again after a
    resume; from a script run pass no context, from another thread pass one.
    """
    if context is None and current_context() is None:
        return False  # no session to attach the hook to from this thread
    try:
        if context is None:
            hook = _release_hook(session_id, notify)
        else:
            holder: list[_ReleaseHook] = []
            call_in_session(context, lambda: holder.append(_release_hook(session_id, notify)))
            hook = holder[0]
    except Exception:
        logger.debug("sessions: no session-end hook for %s", session_id, exc_info=True)
        return False
    hook.notify = notify
    return True


#: Tells Streamlit's page script, loaded at a page's own address (``/Jobs``), that its
#: server is one level up. Without it the script first probes ``/Jobs/_stcore/health``
#: and ``/Jobs/_stcore/host-config`` (404s, then a retry; streamlit/streamlit#7074).
#: Computed in the browser, so a proxy's path prefix is kept; a value the host set wins.
_BACKEND_BASE_SCRIPT: Final = (
    "<script>(function(){var p=location.pathname.replace(/\\/+$/,'');"
    "window.__streamlit=Object.assign({BACKEND_BASE_URL:location.origin+"
    "p.slice(0,p.lastIndexOf('/')+1)},window.__streamlit||{});})();</script>"
)
_page_links_served = False


def serve_page_links() -> bool:
    """From a script run: answer each page's address (``/Jobs``) with Streamlit's page,
    told where its server is, so a deep link makes no failing requests.

    Once per process, on the first script run (a fresh server's very first request,
    made before any script ran, still gets Streamlit's own page). Adds a route to the
    running Starlette app, reached through the signal handler ``streamlit run``
    installs; returns False (and changes nothing) when any of that is not there.
    """
    global _page_links_served
    with _once_lock:
        if _page_links_served:
            return True
        _page_links_served = True
    context = current_context()
    app = _starlette_app()
    if context is None or app is None:
        return False
    try:
        from starlette.responses import HTMLResponse
        from starlette.routing import Route
        from streamlit import file_util

        html = (Path(file_util.get_static_dir()) / "index.html").read_text(encoding="utf-8")
        page = html.replace("<head>", "<head>" + _BACKEND_BASE_SCRIPT, 1)

        async def _page(_request: Any) -> HTMLResponse:
            return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

        base = str(st.config.get_option("server.baseUrlPath") or "").strip("/")
        names = [str(info.get("url_pathname") or "") for info in _pages(context).values()]
        routes = [
            Route("/" + "/".join(part for part in (base, name) if part), _page)
            for name in names
            if name
        ]
        app.router.routes[:0] = routes
    except Exception:
        _access_failed("serve the pages' own addresses")
        return False
    return True


def _pages(context: ScriptContext) -> dict[str, Any]:
    pages = context.pages_manager.get_pages()
    return dict(pages) if isinstance(pages, dict) else {}


def _starlette_app() -> Any | None:
    """The Starlette app ``streamlit run`` serves (private: bootstrap's signal handler
    holds the server, which holds uvicorn's config); None when it is not reachable."""
    try:
        handler = signal.getsignal(signal.SIGTERM)
        cells = getattr(handler, "__closure__", None) or ()
        for cell in cells:
            server = cell.cell_contents
            app = server._starlette_server._server.config.app
            if hasattr(app, "router"):
                return app
    except Exception:
        _access_failed("find Streamlit's web app")
    return None


#: Streamlit's config sections read so far, for the dict of options they were read from.
_config_sections: tuple[dict[str, Any], int, dict[str, dict[str, Any]]] | None = None
_config_sections_installed = False


def index_config_sections() -> bool:
    """Make Streamlit's read of a config section cheap; True once installed.

    Every script and fragment run builds a ``new_session`` message, which reads the six
    theme sections (300 options) with ``config.get_options_for_section``, and each call
    walks all 370 options under the config lock: the largest single cost of a bare
    Streamlit page under many polling tabs (20-35% of its CPU). This installs the same
    function with each section's values kept until Streamlit reads its config again
    (a new dict of options: at start, and when config.toml changes). Options only change
    otherwise through ``config.set_option``, which scripts may use for ``client.*``
    alone; those are read with ``st.get_option``, not by section.
    """
    global _config_sections_installed
    if not check_streamlit_version():
        return False
    from streamlit import config

    with _once_lock:
        if not _config_sections_installed:
            config.get_options_for_section = _options_for_section
            _config_sections_installed = True
    return True


def _options_for_section(section: str) -> dict[str, Any]:
    """``streamlit.config.get_options_for_section``, kept per section (a fresh copy)."""
    global _config_sections
    from streamlit import config

    with config._config_lock:
        options = config.get_config_options()
        kept = _config_sections
        if kept is None or kept[0] is not options or kept[1] != len(options):
            kept = _config_sections = (options, len(options), {})
        values = kept[2].get(section)
        if values is None:
            values = {o.name: o.value for o in options.values() if o.section == section}
            kept[2][section] = values
        return dict(values)
