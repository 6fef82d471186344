"""A user's text size for every page (standard, large, extra large; docs/frontend.md).

Mirrors User.text_size in workflows/models/people.py.

Revision ID: 0025_text_size
Revises: 0024_case_types
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_text_size"
down_revision = "0024_case_types"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("text_size", sa.String(16), nullable=False,
                                   server_default="standard"))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("text_size")
