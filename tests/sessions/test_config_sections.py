"""Streamlit's per-run read of its theme settings, kept per section: the same values."""

from __future__ import annotations

import copy

import pytest
from streamlit import config

from sessions import runtime


def _read_by_walking(section: str) -> dict[str, object]:
    """What Streamlit's own function returns: every option of the section, walked."""
    options = config.get_config_options()
    return {option.name: option.value for option in options.values() if option.section == section}


def test_every_section_reads_as_streamlit_reads_it() -> None:
    assert runtime.index_config_sections()
    sections = {option.section for option in config.get_config_options().values()}
    for section in sorted(sections):
        assert config.get_options_for_section(section) == _read_by_walking(section), section


def test_a_config_read_again_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runtime.index_config_sections()
    assert config.get_options_for_section("theme")["primaryColor"] != "#123456"
    reread = copy.deepcopy(config.get_config_options())
    reread["theme.primaryColor"].set_value("#123456", "test")
    monkeypatch.setattr(config, "_config_options", reread)
    assert config.get_options_for_section("theme")["primaryColor"] == "#123456"


def test_a_caller_changing_its_copy_changes_nothing() -> None:
    assert runtime.index_config_sections()
    config.get_options_for_section("theme")["primaryColor"] = "#654321"
    assert config.get_options_for_section("theme") == _read_by_walking("theme")
