"""``TaskStore`` on SQLAlchemy 2: SQLite (default) and PostgreSQL (psycopg 3)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, Row, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from store.codec import DEFAULT_MAX_VALUE_BYTES, from_json, to_json_or_summary
from store.data_pacing import DataPacer
from store.engine import check_reachable, make_engine
from store.errors import StoreUnavailable
from store.models import ProcessRow, SessionRow, TaskRow, UserValueRow
from store.records import (
    ProcessRecord,
    StoredSession,
    StoredTask,
    TaskKey,
    WriteBatch,
    task_key,
)
from store.schema import upgrade
from store.url import mask_url
from taskmgr import TaskSnapshot, TaskStatus

_FINAL = 10
#: Columns a newer snapshot of a task overwrites (not its params, nor a pending cancel).
_SNAPSHOT_COLUMNS = (
    "job",
    "status",
    "progress",
    "message",
    "data",
    "result",
    "error",
    "traceback",
    "submitted_at",
    "started_at",
    "finished_at",
    "version",
    "process_id",
    "updated_at",
)
#: The same, for a snapshot whose data is not due for a rewrite (store.data_pacing).
_SNAPSHOT_COLUMNS_KEEPING_DATA = tuple(name for name in _SNAPSHOT_COLUMNS if name != "data")


class SqlStore:
    """The store on one SQLAlchemy engine; safe to share between threads."""

    def __init__(self, raw_url: str, *, max_value_bytes: int = DEFAULT_MAX_VALUE_BYTES) -> None:
        self.engine: Engine = make_engine(raw_url)
        self.url = mask_url(self.engine.url)
        self.max_value_bytes = max_value_bytes
        #: When a running task's (growing) partial data is encoded and written again.
        self.data_pacer = DataPacer()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def open(self) -> None:
        check_reachable(self.engine)
        try:
            upgrade(self.engine)
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"cannot migrate the database at {self.url}: {exc}") from None

    def close(self) -> None:
        self.engine.dispose()

    # -- writes ---------------------------------------------------------------------------

    def write(self, batch: WriteBatch, process_id: str) -> None:
        now, mono = time.time(), time.monotonic()
        full_rows: list[dict[str, Any]] = []
        kept_data_rows: list[dict[str, Any]] = []
        paced: list[tuple[TaskKey, TaskSnapshot, float]] = []
        for snap in batch.tasks.values():
            stored_key = task_key(snap.owner, snap.id)
            if self.data_pacer.due(stored_key, snap.status, snap.submitted_at, mono):
                started = time.perf_counter()
                full_rows.append(self._task_row(snap, process_id, now))
                paced.append((stored_key, snap, time.perf_counter() - started))
            else:
                kept_data_rows.append(self._task_row(snap, process_id, now, with_data=False))
        with self.engine.begin() as connection:
            for task_rows, task_columns in (
                (full_rows, _SNAPSHOT_COLUMNS),
                (kept_data_rows, _SNAPSHOT_COLUMNS_KEEPING_DATA),
            ):
                if task_rows:
                    connection.execute(self._upsert_tasks(task_columns), task_rows)
            for (raw_owner, raw_id), params in batch.params.items():
                owner, task_id = task_key(raw_owner, raw_id)
                connection.execute(
                    update(TaskRow)
                    .where(TaskRow.owner == owner, TaskRow.task_id == task_id)
                    .values(params=self._params_json(params.params))
                )
            if batch.sessions:
                insert = self._insert(SessionRow)
                rows = [
                    {
                        **write.info._asdict(),
                        "state": write.info.state.value,
                        "ended_at": write.ended_at,
                        "process_id": process_id,
                        "updated_at": now,
                    }
                    for write in batch.sessions.values()
                ]
                for row in rows:
                    row.pop("registered", None)
                columns = [name for name in rows[0] if name != "session_id"]
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=["session_id"],
                        set_={name: insert.excluded[name] for name in columns},
                    ),
                    rows,
                )
            for (owner, key), value in batch.values.items():
                self._put_value(connection, owner, key, value.kind, value.raw, value.written_at)
        for stored_key, snap, encode_s in paced:  # committed: the data is in the database
            self.data_pacer.written(stored_key, snap.status, snap.submitted_at, encode_s, mono)

    def _upsert_tasks(self, columns: tuple[str, ...]) -> Any:
        """Insert tasks, or overwrite ``columns`` of a stored one with a newer snapshot."""
        insert = self._insert(TaskRow)
        newer = or_(
            insert.excluded.process_id != TaskRow.process_id,
            insert.excluded.version >= TaskRow.version,
            insert.excluded.submitted_at > TaskRow.submitted_at,
        )
        return insert.on_conflict_do_update(
            index_elements=["owner", "task_id"],
            set_={name: insert.excluded[name] for name in columns},
            where=newer,
        )

    def put_value(self, owner: str, key: str, kind: str, raw: bytes) -> None:
        with self.engine.begin() as connection:
            self._put_value(connection, owner, key, kind, raw, time.time())

    def _put_value(
        self, connection: Any, owner: str, key: str, kind: str, raw: bytes, at: float
    ) -> None:
        insert = self._insert(UserValueRow)
        connection.execute(
            insert.values(
                owner=owner, key=key, kind=kind, value=raw, updated_at=at
            ).on_conflict_do_update(
                index_elements=["owner", "key"],
                set_={"kind": kind, "value": raw, "updated_at": at},
            )
        )

    def _task_row(
        self, snap: TaskSnapshot, process_id: str, now: float, *, with_data: bool = True
    ) -> dict[str, Any]:
        """The task's columns; without ``with_data``, its data stays as stored (not encoded)."""
        owner, task_id = task_key(snap.owner, snap.id)
        error = snap.error
        row = {
            "owner": owner,
            "task_id": task_id,
            "job": snap.name,
            "params": None,
            "status": snap.status.value,
            "progress": snap.progress,
            "message": snap.message,
            "result": to_json_or_summary(snap.result, self.max_value_bytes),
            "error": None if error is None else _error_text(error),
            "traceback": snap.traceback,
            "submitted_at": snap.submitted_at,
            "started_at": snap.started_at,
            "finished_at": snap.finished_at,
            "version": snap.version,
            "process_id": process_id,
            "cancel_requested_at": None,
            "updated_at": now,
        }
        if with_data:
            row["data"] = (
                None
                if snap.status is TaskStatus.SUCCESS
                else to_json_or_summary(snap.data, self.max_value_bytes)
            )
        return row

    def _params_json(self, params: Mapping[str, Any]) -> str | None:
        text = to_json_or_summary(dict(params), self.max_value_bytes)
        return None if text is None or '"__summary__"' in text[:20] else text

    def _insert(self, model: type[Any]) -> Any:
        module = postgresql if self.dialect == "postgresql" else sqlite
        return module.insert(model)

    # -- processes ------------------------------------------------------------------------

    def heartbeat(self, process: ProcessRecord, now: float) -> None:
        insert = self._insert(ProcessRow)
        with self.engine.begin() as connection:
            connection.execute(
                insert.values(
                    id=process.id,
                    host=process.host,
                    pid=process.pid,
                    kind=process.kind,
                    started_at=process.started_at,
                    last_heartbeat=now,
                ).on_conflict_do_update(
                    index_elements=["id"],
                    set_={"last_heartbeat": now, "stopped_at": None, "stop_reason": None},
                )
            )

    def interrupt_dead(self, now: float, dead_after_s: float, me: str) -> list[TaskKey]:
        with self.engine.begin() as connection:
            dead = connection.execute(
                select(ProcessRow.id, ProcessRow.last_heartbeat).where(
                    ProcessRow.id != me,
                    ProcessRow.stopped_at.is_(None),
                    ProcessRow.last_heartbeat < now - dead_after_s,
                )
            ).all()
            interrupted: list[TaskKey] = []
            for process_id, last_heartbeat in dead:
                connection.execute(
                    update(ProcessRow)
                    .where(ProcessRow.id == process_id)
                    .values(stopped_at=last_heartbeat, stop_reason="stopped heartbeating")
                )
                interrupted += self._interrupt_tasks_of(connection, process_id, last_heartbeat)
            # Tasks left unfinished by a process that is gone already (stopped while the
            # database was away, or a row written after it was found dead).
            orphans = connection.execute(
                select(TaskRow.owner, TaskRow.task_id, ProcessRow.stopped_at)
                .join(ProcessRow, ProcessRow.id == TaskRow.process_id)
                .where(TaskRow.status < _FINAL, ProcessRow.stopped_at.is_not(None))
            ).all()
            for owner, task_id, stopped_at in orphans:
                connection.execute(_interrupt(owner, task_id, stopped_at or now))
                interrupted.append((owner, task_id))
            return interrupted

    def stop_process(self, process_id: str, now: float) -> list[TaskKey]:
        with self.engine.begin() as connection:
            connection.execute(
                update(ProcessRow)
                .where(ProcessRow.id == process_id)
                .values(stopped_at=now, stop_reason="stopped")
            )
            return self._interrupt_tasks_of(connection, process_id, now)

    def _interrupt_tasks_of(self, connection: Any, process_id: str, at: float) -> list[TaskKey]:
        keys = [
            (str(owner), str(task_id))
            for owner, task_id in connection.execute(
                select(TaskRow.owner, TaskRow.task_id).where(
                    TaskRow.process_id == process_id, TaskRow.status < _FINAL
                )
            ).all()
        ]
        for owner, task_id in keys:
            connection.execute(_interrupt(owner, task_id, at))
        return keys

    def processes(self) -> list[ProcessRecord]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ProcessRow.__table__).order_by(ProcessRow.started_at.desc())
            ).all()
        return [
            ProcessRecord(
                id=row.id,
                host=row.host,
                pid=row.pid,
                kind=row.kind,
                started_at=row.started_at,
                last_heartbeat=row.last_heartbeat,
                stopped_at=row.stopped_at,
                stop_reason=row.stop_reason,
            )
            for row in rows
        ]

    # -- cancel across processes ----------------------------------------------------------

    def request_cancel(self, owner: str, task_id: str, now: float) -> str | None:
        with self.engine.begin() as connection:
            process_id = connection.execute(
                update(TaskRow)
                .where(TaskRow.owner == owner, TaskRow.task_id == task_id, TaskRow.status < _FINAL)
                .values(cancel_requested_at=now)
                .returning(TaskRow.process_id)
            ).scalar_one_or_none()
            if process_id is not None and self.dialect == "postgresql":
                connection.execute(
                    select(func.pg_notify(cancel_channel(str(process_id)), f"{owner}\n{task_id}"))
                )
        return None if process_id is None else str(process_id)

    def take_cancel_requests(self, process_id: str) -> list[TaskKey]:
        with self.engine.begin() as connection:
            rows = connection.execute(
                update(TaskRow)
                .where(TaskRow.process_id == process_id, TaskRow.cancel_requested_at.is_not(None))
                .values(cancel_requested_at=None)
                .returning(TaskRow.owner, TaskRow.task_id, TaskRow.status)
            ).all()
        return [(str(owner), str(task_id)) for owner, task_id, status in rows if status < _FINAL]

    # -- reads ----------------------------------------------------------------------------

    def tasks(self, owner: str | None = None, limit: int = 200) -> list[StoredTask]:
        query = select(TaskRow.__table__).order_by(TaskRow.submitted_at.desc()).limit(limit)
        if owner is not None:
            query = query.where(TaskRow.owner == owner)
        with self.engine.connect() as connection:
            return [_stored_task(row) for row in connection.execute(query).all()]

    def task_counts(self) -> dict[TaskStatus, int]:
        """How many stored tasks are in each status (every process's, for ``/metrics``)."""
        query = select(TaskRow.status, func.count()).group_by(TaskRow.status)
        with self.engine.connect() as connection:
            return {TaskStatus(status): count for status, count in connection.execute(query).all()}

    def task(self, owner: str, task_id: str) -> StoredTask | None:
        query = select(TaskRow.__table__).where(TaskRow.owner == owner, TaskRow.task_id == task_id)
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _stored_task(row)

    def sessions(self, limit: int = 200) -> list[StoredSession]:
        query = select(SessionRow.__table__).order_by(SessionRow.updated_at.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [
                StoredSession(
                    session_id=row.session_id,
                    owner=row.owner,
                    state=row.state,
                    started_at=row.started_at,
                    last_heartbeat=row.last_heartbeat,
                    disconnected_at=row.disconnected_at,
                    ended_at=row.ended_at,
                    user_agent=row.user_agent,
                    client_ip=row.client_ip,
                    page=row.page,
                    script_runs=row.script_runs,
                    process_id=row.process_id,
                )
                for row in connection.execute(query).all()
            ]

    def get_value(self, owner: str, key: str) -> tuple[str, bytes] | None:
        query = select(UserValueRow.kind, UserValueRow.value).where(
            UserValueRow.owner == owner, UserValueRow.key == key
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else (str(row[0]), bytes(row[1]))

    def forget_before(self, cutoff: float) -> int:
        with self.engine.begin() as connection:
            removed = connection.execute(
                delete(TaskRow).where(TaskRow.status >= _FINAL, TaskRow.updated_at < cutoff)
            ).rowcount
            removed += connection.execute(
                delete(SessionRow).where(
                    SessionRow.state == "ended", SessionRow.updated_at < cutoff
                )
            ).rowcount
            removed += connection.execute(
                delete(ProcessRow).where(
                    and_(ProcessRow.stopped_at.is_not(None), ProcessRow.stopped_at < cutoff)
                )
            ).rowcount
        return int(removed)


def cancel_channel(process_id: str) -> str:
    """The PostgreSQL NOTIFY channel on which ``process_id`` hears cancels."""
    return f"taskpool_cancel_{process_id}"


def _interrupt(owner: str, task_id: str, at: float) -> Any:
    return (
        update(TaskRow)
        .where(TaskRow.owner == owner, TaskRow.task_id == task_id, TaskRow.status < _FINAL)
        .values(
            status=TaskStatus.INTERRUPTED.value,
            finished_at=at,
            cancel_requested_at=None,
            updated_at=time.time(),
        )
    )


def _error_text(error: BaseException) -> str:
    text = str(error).strip()
    if type(error).__name__ == "StoredError":
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _stored_task(row: Row[Any]) -> StoredTask:
    return StoredTask(
        owner=row.owner,
        task_id=row.task_id,
        job=row.job,
        params=from_json(row.params) if row.params else None,
        status=TaskStatus(row.status),
        progress=row.progress,
        message=row.message,
        data=from_json(row.data),
        result=from_json(row.result),
        error=row.error,
        traceback=row.traceback,
        submitted_at=row.submitted_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        process_id=row.process_id,
        cancel_requested_at=row.cancel_requested_at,
        updated_at=row.updated_at,
    )
