from __future__ import annotations

import pytest

from taskmgr import get_task_manager
from taskmgr.resource import manager_from_settings
from taskmgr.settings import SettingError


def test_get_task_manager_is_one_shared_instance() -> None:
    assert get_task_manager() is get_task_manager()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKMGR_MAX_WORKERS", "3")
    monkeypatch.setenv("TASKMGR_MAX_QUEUED_PER_OWNER", "7")
    monkeypatch.setenv("TASKMGR_MAX_RUNNING_PER_OWNER", "2")
    monkeypatch.setenv("TASKMGR_RESULT_TTL_S", "60")
    monkeypatch.setenv("TASKMGR_MAX_RESULTS", "50")
    monkeypatch.setenv("TASKMGR_MAX_QUEUED", "40")
    monkeypatch.setenv("TASKMGR_MAX_ASYNC", "20")
    with manager_from_settings() as mgr:
        assert (mgr.max_workers, mgr.max_queued_per_owner, mgr.max_running_per_owner) == (3, 7, 2)
        assert (mgr.max_queued, mgr.reserve) == (40, 0)
        assert (mgr.result_ttl_s, mgr.max_results, mgr.max_async) == (60.0, 50, 20)


def test_defaults_without_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TASKMGR_MAX_WORKERS", "TASKMGR_MAX_RUNNING_PER_OWNER", "TASKMGR_MAX_QUEUED"):
        monkeypatch.delenv(name, raising=False)
    with manager_from_settings() as mgr:
        assert mgr.max_workers == 8 and mgr.max_running_per_owner is None
        assert (mgr.reserve, mgr.max_queued) == (2, 1000)


@pytest.mark.parametrize("value", ["zero", "0", "-2", "1.5"])
def test_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TASKMGR_MAX_WORKERS", value)
    with pytest.raises(SettingError, match=f"TASKMGR_MAX_WORKERS={value!r}"):
        manager_from_settings()
