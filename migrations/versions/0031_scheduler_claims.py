"""Once-per-period scheduler jobs claimed by slot (scheduler_claim), so several scheduler
processes can share one database without running a daily job twice.

Mirrors SchedulerClaim in workflows/models/scheduling.py.

Revision ID: 0031_scheduler_claims
Revises: 0030_inbox_order_index
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0031_scheduler_claims"
down_revision = "0030_inbox_order_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_claim",
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("slot", sa.String(40), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job", "slot", name="pk_scheduler_claim"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_claim")
