"""The pages' favicon, inlined as a ``data:`` URL.

A ``:material/...:`` or emoji page icon makes the browser fetch it from a CDN, so no
request would leave the machine only if the file is served by the app itself. A file
path does that, but Streamlit then registers it as a media file of every session, and
every script and fragment run walks all sessions' media files to find orphans: a cost
per tick that grows with the number of tabs. A ``data:`` URL is neither fetched nor
registered.
"""

from __future__ import annotations

import base64
from pathlib import Path

ICON_FILE = Path(__file__).with_name("icon.png")
PAGE_ICON = "data:image/png;base64," + base64.b64encode(ICON_FILE.read_bytes()).decode("ascii")
