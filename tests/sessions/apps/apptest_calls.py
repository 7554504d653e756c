"""Where ``apptest_app``'s callbacks record what they saw; AppTest runs it in the test's process."""

from __future__ import annotations

CALLS: list[tuple[str, object]] = []
