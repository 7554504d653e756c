"""The tables, as SQLAlchemy 2 models; the migrations in ``store/migrations`` create them.

Times are epoch seconds (floats), as everywhere else in the project. Owners and task
ids are text: the app's owners are tokens and its ids strings.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ProcessRow(Base):
    """One server process (a Streamlit replica, the API): alive while it heartbeats."""

    __tablename__ = "processes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32), default="streamlit")
    started_at: Mapped[float] = mapped_column(Float)
    last_heartbeat: Mapped[float] = mapped_column(Float)
    #: Set when it stopped cleanly, or when another process found it dead.
    stopped_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class TaskRow(Base):
    """A task's latest snapshot, its job's parameters and the process that runs it."""

    __tablename__ = "tasks"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    job: Mapped[str] = mapped_column(String(255))
    #: JSON of the job's parameters (None when they were not recorded, or too large).
    params: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[int] = mapped_column(Integer)
    progress: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    traceback: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[float] = mapped_column(Float)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The snapshot's version in its process: a late, older snapshot never overwrites.
    version: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(64))
    #: Written by whoever asks to cancel from another process; cleared once honoured.
    cancel_requested_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_tasks_process_status", "process_id", "status"),
        Index("ix_tasks_updated_at", "updated_at"),
    )


class SessionRow(Base):
    """A browser session as the tracker last saw it, kept after it ends (history)."""

    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True)
    state: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[float] = mapped_column(Float)
    last_heartbeat: Mapped[float | None] = mapped_column(Float, nullable=True)
    disconnected_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    client_ip: Mapped[str | None] = mapped_column(String(255), nullable=True)
    page: Mapped[str | None] = mapped_column(Text, nullable=True)
    script_runs: Mapped[int] = mapped_column(Integer, default=0)
    process_id: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_sessions_updated_at", "updated_at"),)


class UserValueRow(Base):
    """One owner-scoped value of ``persisted_state``: JSON or Parquet bytes."""

    __tablename__ = "user_state"

    owner: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[float] = mapped_column(Float)


class ApiTokenRow(Base):
    """A user token of the REST API: only its SHA-256 is kept, never the token itself."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    owner: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float)
