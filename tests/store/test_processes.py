"""Processes sharing one database: death noticed, cancels carried, writers not colliding."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store import DurableStore, StoreSettings
from taskmgr import AsyncTaskManager, TaskContext, TaskStatus
from tests.store.conftest import HEARTBEAT_S, DurableFactory
from tests.support.databases import allow_connections, fresh_database, postgres_admin_url
from tests.support.server import REPO_ROOT
from tests.support.wait import wait_until


def half_way_then_wait(ctx: TaskContext, gate: threading.Event) -> str:
    ctx.report(progress=0.5, message="half way")
    while not gate.wait(0.05):
        ctx.check()
    return "finished"


def stored_status(durable: DurableStore, owner: str, task_id: str) -> TaskStatus | None:
    stored = durable.backend.task(owner, task_id)
    return None if stored is None else stored.status


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def test_unfinished_tasks_of_a_silent_process_become_interrupted(
    make_durable: DurableFactory, manager: AsyncTaskManager, gate: threading.Event
) -> None:
    silent = make_durable()
    silent.attach_manager(manager)
    manager.submit("long", half_way_then_wait, {"gate": gate}, owner="alice", name="job")
    wait_until(lambda: stored_status(silent, "alice", "long") is TaskStatus.IN_PROGRESS)
    wait_until(lambda: silent.writer.flush(1) and silent.backend.task("alice", "long"))
    silent.heartbeat.stop()  # as if the process froze or was killed: no more beats

    observer = make_durable()
    wait_until(
        lambda: stored_status(observer, "alice", "long") is TaskStatus.INTERRUPTED,
        message="the observer to find the silent process dead",
    )
    stored = observer.backend.task("alice", "long")
    assert stored is not None
    assert (stored.progress, stored.message) == (0.5, "half way")
    (dead,) = [p for p in observer.backend.processes() if p.id == silent.process.id]
    assert dead.stop_reason == "stopped heartbeating"


def test_a_cancel_from_another_process_reaches_the_task(
    make_durable: DurableFactory, manager: AsyncTaskManager, gate: threading.Event
) -> None:
    runner = make_durable()
    runner.attach_manager(manager)
    manager.submit("long", half_way_then_wait, {"gate": gate}, owner="alice", name="job")
    wait_until(lambda: stored_status(runner, "alice", "long") is TaskStatus.IN_PROGRESS)

    other = make_durable()  # another process: no manager of its own runs the task
    assert other.cancel("alice", "long")
    manager.join("long", owner="alice", timeout=30)
    assert manager.get_result("long", owner="alice").status is TaskStatus.CANCELLED
    wait_until(lambda: stored_status(other, "alice", "long") is TaskStatus.CANCELLED)
    assert not other.cancel("alice", "long")  # final now: nothing to ask


def test_held_writes_reach_the_database_when_it_is_back(
    manager: AsyncTaskManager, tmp_path: Path
) -> None:
    """PostgreSQL only: a SQLite file cannot go away while it is open."""
    with fresh_database("postgresql", tmp_path) as url:
        durable = DurableStore(StoreSettings(url=url, heartbeat_s=HEARTBEAT_S))
        durable.open()
        durable.start()
        durable.attach_manager(manager)
        name = make_url(url).database
        admin = create_engine(postgres_admin_url(), isolation_level="AUTOCOMMIT")
        try:
            allow_connections(admin, name, False)
            manager.submit("while-away", lambda ctx: "kept", owner="alice", name="job")
            durable.write_value("alice", "inputs", {"steps": 7})
            wait_until(lambda: not durable.health().ok, message="the store to notice the outage")
            assert durable.health().writer.held >= 1
            assert durable.tasks("alice") == []  # pages read memory meanwhile, never block
        finally:
            allow_connections(admin, name, True)
            admin.dispose()
        wait_until(lambda: durable.health().ok, message="the store to reconnect")
        assert durable.writer.flush(30)
        assert stored_status(durable, "alice", "while-away") is TaskStatus.SUCCESS
        assert durable.backend.get_value("alice", "inputs") == ("json", b'{"steps":7}')
        durable.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from store import DurableStore, StoreSettings
    durable = DurableStore(StoreSettings(url=sys.argv[1], heartbeat_s=0.2))
    durable.open()
    durable.start()
    for i in range(int(sys.argv[3])):
        durable.write_value(sys.argv[2], f"k{i}", {"i": i})
        if i % 25 == 0:
            assert durable.writer.flush(60), durable.health()
    assert durable.writer.flush(60), durable.health()
    health = durable.health()
    assert health.ok and health.writer.batches > 5, health
    durable.close()
    print("ok")
    """
)


def test_two_processes_write_one_database_without_lock_errors(database_url: str) -> None:
    """Each process writes in many small transactions at once; none fails ("database is
    locked" would leave the writer failing and the health not ok)."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, database_url, owner, "400"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for owner in ("alice", "bob")
    ]
    outputs = [writer.communicate(timeout=90) for writer in writers]
    for writer, (out, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0 and out.strip() == "ok", err[-2000:]
        assert "database is locked" not in err
    engine = create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM user_state")).scalar_one()
    engine.dispose()
    assert count == 800


def test_on_postgresql_a_cancel_is_heard_at_once_not_at_the_next_beat(
    manager: AsyncTaskManager, gate: threading.Event, tmp_path: Path
) -> None:
    """With a beat once a minute, only LISTEN/NOTIFY can bring the cancel in time."""
    with fresh_database("postgresql", tmp_path) as url:
        slow = StoreSettings(url=url, heartbeat_s=60.0, dead_after_s=300.0)
        runner, other = DurableStore(slow), DurableStore(slow)
        for durable in (runner, other):
            durable.open()
            durable.start()
        try:
            runner.attach_manager(manager)
            manager.submit("long", half_way_then_wait, {"gate": gate}, owner="alice", name="job")
            wait_until(lambda: runner.writer.flush(1) and runner.backend.task("alice", "long"))
            wait_until(lambda: stored_status(other, "alice", "long") is TaskStatus.IN_PROGRESS)
            assert other.cancel("alice", "long")
            manager.join("long", owner="alice", timeout=30)
            assert manager.get_result("long", owner="alice").status is TaskStatus.CANCELLED
        finally:
            runner.close()
            other.close()
