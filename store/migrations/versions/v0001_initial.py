"""Processes, tasks, sessions and per-owner user state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_heartbeat", sa.Float, nullable=False),
        sa.Column("stopped_at", sa.Float, nullable=True),
        sa.Column("stop_reason", sa.String(32), nullable=True),
    )
    op.create_table(
        "tasks",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("task_id", sa.String(255), primary_key=True),
        sa.Column("job", sa.String(255), nullable=False),
        sa.Column("params", sa.Text, nullable=True),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("progress", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("result", sa.Text, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("traceback", sa.Text, nullable=True),
        sa.Column("submitted_at", sa.Float, nullable=False),
        sa.Column("started_at", sa.Float, nullable=True),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("cancel_requested_at", sa.Float, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_tasks_process_status", "tasks", ["process_id", "status"])
    op.create_index("ix_tasks_updated_at", "tasks", ["updated_at"])
    op.create_table(
        "sessions",
        sa.Column("session_id", sa.String(255), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_heartbeat", sa.Float, nullable=True),
        sa.Column("disconnected_at", sa.Float, nullable=True),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.Column("client_ip", sa.String(255), nullable=True),
        sa.Column("page", sa.Text, nullable=True),
        sa.Column("script_runs", sa.Integer, nullable=False),
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sessions_updated_at", "sessions", ["updated_at"])
    op.create_table(
        "user_state",
        sa.Column("owner", sa.String(255), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("user_state")
    op.drop_index("ix_sessions_updated_at", "sessions")
    op.drop_table("sessions")
    op.drop_index("ix_tasks_updated_at", "tasks")
    op.drop_index("ix_tasks_process_status", "tasks")
    op.drop_table("tasks")
    op.drop_table("processes")
