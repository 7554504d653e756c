"""One user's unfinished tasks cannot hold uploads past a limit; others are not affected."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from app import tasks
from app.services import services
from app.upload_quota import UploadQuota, UploadQuotaExceeded
from jobs.spec import Job, Param
from taskmgr import TaskContext, TaskStatus
from tests.support.wait import wait_until

MB = 1024 * 1024
release = threading.Event()


def hold_the_file(ctx: TaskContext, data: bytes) -> int:
    while not release.is_set():
        ctx.sleep(0.05)
    return len(data)


HOLDER = Job(
    key="holder",
    title="Holds an upload",
    description="Waits with its file in memory.",
    fn=hold_the_file,
    params=(Param("data", "Data", "file", None, maximum=10 * MB),),
    result_kind="value",
)


@pytest.fixture
def quota(monkeypatch: pytest.MonkeyPatch) -> Iterator[UploadQuota]:
    uploads = services().uploads
    monkeypatch.setattr(uploads, "limit_bytes", 3 * MB)
    release.clear()
    yield uploads
    release.set()
    for owner in ("alice", "bob", "carol"):
        services().manager.cancel_owner(owner)


def test_uploads_past_the_owners_limit_are_refused_with_the_numbers(quota: UploadQuota) -> None:
    for _ in range(2):
        tasks.start_job(HOLDER, {"data": bytes(int(1.2 * MB))}, "alice")

    with pytest.raises(UploadQuotaExceeded) as refused:
        tasks.start_job(HOLDER, {"data": bytes(int(1.2 * MB))}, "alice")

    assert "already hold 2.4 MB" in str(refused.value)
    assert "limit of 3.0 MB per user" in str(refused.value)
    assert quota.held("alice") == 2 * int(1.2 * MB)
    assert len(services().manager.list_tasks("alice")) == 2  # the refused one never queued
    tasks.start_job(HOLDER, {"data": bytes(int(1.2 * MB))}, "bob")  # bob has his own


def test_a_finished_task_gives_its_bytes_back(quota: UploadQuota) -> None:
    first = tasks.start_job(HOLDER, {"data": bytes(2 * MB)}, "carol")
    with pytest.raises(UploadQuotaExceeded):
        tasks.start_job(HOLDER, {"data": bytes(2 * MB)}, "carol")

    services().manager.cancel(first.id, owner="carol")
    ended = services().manager.join(first.id, owner="carol", timeout=30)

    assert ended.status is TaskStatus.CANCELLED
    wait_until(lambda: quota.held("carol") == 0, message="the bytes given back")  # a listener
    tasks.start_job(HOLDER, {"data": bytes(2 * MB)}, "carol")
