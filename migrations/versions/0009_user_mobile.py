"""A user's work mobile, encrypted, with its display mask (directory imports carry it).

Revision ID: 0009_user_mobile
Revises: 0008_district
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_user_mobile"
down_revision = "0008_district"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("mobile_enc", sa.Text(), nullable=True))
        batch.add_column(sa.Column("mobile_masked", sa.String(20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("mobile_masked")
        batch.drop_column("mobile_enc")
