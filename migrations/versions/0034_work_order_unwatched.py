"""Work orders remember that their SLA watch row exists (``sla_watched``), and a partial index
holds the open ones without it, so the SLA sweep finds new orders without reading every open order.

Mirrors WorkOrder.sla_watched and ix_work_order_unwatched in workflows/models/cases.py.

Revision ID: 0034_work_order_unwatched
Revises: 0033_call_task_outcome
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034_work_order_unwatched"
down_revision = "0033_call_task_outcome"
branch_labels = None
depends_on = None

UNWATCHED_OPEN = "NOT sla_watched AND status IN ('dispatched', 'accepted', 'in_progress')"


def upgrade() -> None:
    with op.batch_alter_table("work_order") as batch:
        batch.add_column(sa.Column("sla_watched", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.execute("UPDATE work_order SET sla_watched = true "
               "WHERE id IN (SELECT work_order_id FROM work_order_sla)")
    op.create_index("ix_work_order_unwatched", "work_order", ["case_id"],
                    postgresql_where=sa.text(UNWATCHED_OPEN), sqlite_where=sa.text(UNWATCHED_OPEN))


def downgrade() -> None:
    op.drop_index("ix_work_order_unwatched", table_name="work_order")
    with op.batch_alter_table("work_order") as batch:
        batch.drop_column("sla_watched")
