"""SLA sweep isolation: per-case failure count, back-off and incident (sla_check_failure).

Mirrors workflows/models/sla_failures.py.

Revision ID: 0007_sla_failures
Revises: 0006_checkpoint_append_only
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0007_sla_failures"
down_revision = "0006_checkpoint_append_only"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sla_check_failure",
        sa.Column("case_id", ID, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failed_at", UTCDateTime(), nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_sla_check_failure_case_id_dispute_case")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_sla_check_failure")),
    )


def downgrade() -> None:
    op.drop_table("sla_check_failure")
