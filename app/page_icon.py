"""The pages' favicon: a file served by the app itself, so that no request leaves the machine
(a ``:material/...:`` page icon makes the browser fetch it from a font CDN)."""

from __future__ import annotations

from pathlib import Path

PAGE_ICON = str(Path(__file__).with_name("icon.png"))
