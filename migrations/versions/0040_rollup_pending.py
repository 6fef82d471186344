"""The queue of cases whose rollup contribution is to be replaced (rollup_pending): a step
queues the cases it changed at its commit, a catch-up applies them (workflows/rollups/catch_up.py,
docs/cockpit.md). Starts empty: every earlier change was applied at its own commit. Mirrors
workflows/models/rollups.py.

Revision ID: 0040_rollup_pending
Revises: 0039_case_search_facts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0040_rollup_pending"
down_revision = "0039_case_search_facts"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("rollup_pending", sa.Column("case_id", ID, primary_key=True),
                    sa.Column("noticed", sa.Boolean(), nullable=False))


def downgrade() -> None:
    op.drop_table("rollup_pending")
