"""Debian's Chromium driven by Playwright: ``playwright install`` cannot download browsers here."""

from __future__ import annotations

import os
import shutil

from playwright.sync_api import Browser, Playwright

#: Where Debian's ``chromium`` package puts the browser; ``CHROMIUM_PATH`` overrides it.
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

#: Quiet, sandbox-free headless flags that work as root in a container, with no network use.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)


def chromium_available() -> bool:
    return os.path.exists(CHROMIUM_PATH) or shutil.which("chromium") is not None


def launch_chromium(playwright: Playwright) -> Browser:
    """A headless Chromium from the system package (the tests' one browser)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH, args=list(CHROMIUM_ARGS), headless=True
    )
