"""Full garbage collections run on their own schedule, since Streamlit's are turned off."""

from __future__ import annotations

import gc
import tomllib
import weakref
from pathlib import Path

import pytest

from app.collector import ScheduledCollector
from tests.support.wait import wait_until

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_the_repository_config_turns_off_the_collection_after_every_run() -> None:
    config = tomllib.loads(CONFIG.read_text())
    assert config["runner"]["postScriptGC"] is False


def test_the_schedule_keeps_running() -> None:
    collector = ScheduledCollector(interval_s=0.02).start()
    try:
        assert collector.wait_for_runs(3, timeout=30)
    finally:
        collector.stop()
    assert collector.runs >= 3


def test_cyclic_garbage_is_freed_by_the_schedule_alone() -> None:
    was_enabled = gc.isenabled()
    gc.disable()  # only the scheduled collection can free a cycle now
    collector = ScheduledCollector(interval_s=0.02)
    try:
        first, second = _Node(), _Node()
        first.other, second.other = second, first
        alive = weakref.ref(first)
        del first, second
        assert alive() is not None, "a cycle outlives its names without a collection"
        collector.start()
        wait_until(lambda: alive() is None, message="the cycle to be collected")
    finally:
        collector.stop()
        if was_enabled:
            gc.enable()
    assert collector.total_collected >= 2  # a later, empty run may have reset last_collected


def test_stop_ends_the_thread_between_collections() -> None:
    collector = ScheduledCollector(interval_s=3600).start()
    collector.stop()
    assert collector.runs == 0
    assert not collector._thread.is_alive()


def test_a_non_positive_interval_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match=r"interval_s .* got 0"):
        ScheduledCollector(interval_s=0)


def test_freeze_sets_aside_what_lives_after_the_first_collection() -> None:
    collector = ScheduledCollector(interval_s=0.02, freeze=True)
    try:
        collector.start()
        assert collector.wait_for_runs(2, timeout=30)
        assert gc.get_freeze_count() > 0
    finally:
        collector.stop()
        gc.unfreeze()
