"""Owner tokens: who a script run's tasks belong to, bound to the browser, never to a link.

The owner is, in order:

- the signed-in user (``st.user``, when Streamlit authentication is configured), the same
  on every tab and device;
- else this browser: a hash of the secret in the cookie Streamlit's server issues to every
  browser (its XSRF cookie; see ``sessions.runtime.browser_secret``). Every tab and every
  refresh of the browser sends it, a copied link does not, and a client cannot choose
  someone else's without knowing it;
- else (a server without that cookie: XSRF protection turned off, or a test harness) this
  session alone: a random token kept in ``st.session_state``, which a refresh loses.

Nothing in the URL is trusted: an ``?owner=`` parameter (what earlier versions used) is
removed, so old links neither hand over nor fixate an owner.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping
from typing import Final

from sessions import runtime

logger = logging.getLogger(__name__)

#: The query-string parameter that carried the token before; now removed when present.
OWNER_PARAM: Final = "owner"

_STATE_KEY: Final = "_sessions_owner_token"
_TOKEN_SHAPE: Final = re.compile(r"[A-Za-z0-9_:-]{16,128}")
#: Prefixes that say what an owner stands for (the Admin page shows them).
USER_PREFIX: Final = "user:"
BROWSER_PREFIX: Final = "browser:"
SESSION_PREFIX: Final = "session:"
_warned_without_cookie = False


def new_owner_token() -> str:
    """A fresh random token: 128 bits, URL-safe."""
    return secrets.token_urlsafe(16)


def is_owner_token(value: object) -> bool:
    return isinstance(value, str) and _TOKEN_SHAPE.fullmatch(value) is not None


def owner_for_user(user: Mapping[str, object]) -> str | None:
    """The owner of a signed-in ``st.user``; None when nobody is signed in."""
    if user.get("is_logged_in") is not True:
        return None
    subject = user.get("sub") or user.get("email")
    if not isinstance(subject, str) or not subject:
        return None
    issuer = user.get("iss")
    return USER_PREFIX + _digest(f"{issuer if isinstance(issuer, str) else ''}\0{subject}")


def owner_for_browser(secret: bytes) -> str:
    """The owner of a browser, from the secret its cookie holds (the secret is not shown)."""
    return BROWSER_PREFIX + _digest(secret)


def owner_token() -> str:
    """The owner of this script run's tasks: the signed-in user, else this browser.

    Stable for the session; the same for every tab and refresh of a browser. Any
    ``?owner=`` in the URL is dropped, never trusted.
    """
    import streamlit as st

    if OWNER_PARAM in st.query_params:
        del st.query_params[OWNER_PARAM]
    token = owner_for_user(_signed_in_user())
    if token is None:
        secret = runtime.browser_secret()
        token = owner_for_browser(secret) if secret is not None else None
    if token is None:
        _warn_without_cookie()
        kept = st.session_state.get(_STATE_KEY)
        token = kept if isinstance(kept, str) and _is_session_token(kept) else None
        token = token or SESSION_PREFIX + new_owner_token()
    st.session_state[_STATE_KEY] = token
    return token


def _signed_in_user() -> Mapping[str, object]:
    import streamlit as st

    try:
        return st.user.to_dict()
    except Exception:  # no script run context, or no auth configured in an odd way
        return {}


def _is_session_token(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SESSION_PREFIX) and is_owner_token(value)


def _digest(value: str | bytes) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()[:32]


def _warn_without_cookie() -> None:
    global _warned_without_cookie
    if _warned_without_cookie:
        return
    _warned_without_cookie = True
    logger.info(
        "sessions: this browser sent no server-issued cookie (is server.enableXsrfProtection "
        "off?); tasks belong to the session and a refresh will not find them again"
    )
