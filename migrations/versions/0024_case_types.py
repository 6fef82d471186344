"""Case types: the table mapping a category (and optionally a channel) to the process a new case
starts on; open tasks gain the users a task was drawn for (``camunda:candidateUsers``).

Mirrors workflows/models/case_types.py and OpenTask in workflows/models/casework.py.

Revision ID: 0024_case_types
Revises: 0023_expert_role
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0024_case_types"
down_revision = "0023_expert_role"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_type",
        sa.Column("id", ID, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("process_id", sa.String(100), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_type")),
        sa.UniqueConstraint("category", "channel", name="uq_case_type_category_channel"),
    )
    with op.batch_alter_table("open_task") as batch:
        batch.add_column(sa.Column("candidate_users", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("open_task") as batch:
        batch.drop_column("candidate_users")
    op.drop_table("case_type")
