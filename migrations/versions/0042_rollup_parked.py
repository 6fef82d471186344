"""Parked rollup cases: a queued case whose apply failed on its own is kept aside with its
attempts, first failure, next try and last error, so the catch-up's batches go on without it
(workflows/rollups/catch_up.py, docs/operations.md). Queued rows start unparked. Mirrors
workflows/models/rollups.py.

Revision ID: 0042_rollup_parked
Revises: 0041_directory_stamp
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0042_rollup_parked"
down_revision = "0041_directory_stamp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rollup_pending") as table:
        table.add_column(sa.Column("attempts", sa.Integer(), nullable=False,
                                   server_default=sa.text("0")))
        table.add_column(sa.Column("parked_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("retry_at", UTCDateTime(), nullable=True))
        table.add_column(sa.Column("last_error", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rollup_pending") as table:
        for name in ("last_error", "retry_at", "parked_at", "attempts"):
            table.drop_column(name)
