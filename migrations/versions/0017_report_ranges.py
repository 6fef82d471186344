"""A report may cover the current period or any range of dates: one row per kind, first and last
day (was: per kind and first day).

Mirrors Report in workflows/models/scheduling.py.

Revision ID: 0017_report_ranges
Revises: 0016_second_factor
"""

from __future__ import annotations

from alembic import op

revision = "0017_report_ranges"
down_revision = "0016_second_factor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.drop_constraint("uq_report_kind_period_start", type_="unique")
        batch.create_unique_constraint("uq_report_kind_period_start_period_end",
                                       ["kind", "period_start", "period_end"])


def downgrade() -> None:
    # keep the newest row of each kind and first day, as the old key allows one
    op.execute("DELETE FROM report WHERE id NOT IN (SELECT MAX(id) FROM report "
               "GROUP BY kind, period_start)")
    with op.batch_alter_table("report") as batch:
        batch.drop_constraint("uq_report_kind_period_start_period_end", type_="unique")
        batch.create_unique_constraint("uq_report_kind_period_start", ["kind", "period_start"])
