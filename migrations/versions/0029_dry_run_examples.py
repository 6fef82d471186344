"""Dry runs kept as regression examples of a process (dry_run_example).

Mirrors DryRunExample in workflows/models/drafts.py.

Revision ID: 0029_dry_run_examples
Revises: 0028_cockpit_rollups
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0029_dry_run_examples"
down_revision = "0028_cockpit_rollups"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "dry_run_example",
        sa.Column("id", ID, nullable=False),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start", UTCDateTime(), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.Column("actions", JSONType, nullable=False),
        sa.Column("outcome", JSONType, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dry_run_example")),
    )
    op.create_index(op.f("ix_dry_run_example_process_id"), "dry_run_example", ["process_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dry_run_example_process_id"), table_name="dry_run_example")
    op.drop_table("dry_run_example")
