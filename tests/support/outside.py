"""Requests a browser makes to anything but this machine: recorded, and never sent."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Route

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def block_outside_requests(context: BrowserContext) -> list[str]:
    """Abort every request of ``context`` to a host other than loopback; returns the list
    the blocked URLs are appended to, for the test to assert on."""
    blocked: list[str] = []

    def handle(route: Route) -> None:
        url = route.request.url
        host = urlsplit(url).hostname or ""
        if url.startswith(("data:", "blob:", "about:")) or host in _LOOPBACK:
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", handle)
    return blocked
