"""KPI targets as dated records, with the plan's defaults; indexes for the cockpit's periods.

Mirrors workflows/models/kpis.py and the period indexes in cases.py, casework.py, scheduling.py.
The default rows are workflows/reports/targets.py's PLAN_TARGETS at the time of writing.

Revision ID: 0018_kpi_targets
Revises: 0017_report_ranges
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0018_kpi_targets"
down_revision = "0017_report_ranges"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PLAN = "《区综治中心机制建设方案》"
# (kpi, valid_from, valid_to, comparator, value): percentages in percent, times in their unit
DEFAULTS = (
    ("K-01", date(2024, 1, 1), date(2025, 12, 31), ">=", 80.0),
    ("K-01", date(2026, 1, 1), date(2028, 12, 31), ">=", 85.0),
    ("K-02", date(2024, 1, 1), date(2025, 12, 31), ">=", 85.0),
    ("K-02", date(2026, 1, 1), date(2028, 12, 31), ">=", 90.0),
    ("K-03", date(2024, 1, 1), None, "<=", 10.0),
    ("K-04", date(2024, 1, 1), None, "<=", 2.0),
    ("K-05", date(2024, 1, 1), None, "<=", 24.0),
    ("K-06", date(2024, 1, 1), None, "<=", 2.0),
    ("K-07", date(2024, 1, 1), None, "<=", 24.0),
    ("K-11", date(2025, 1, 1), None, ">=", 80.0),
)


def upgrade() -> None:
    table = op.create_table(
        "kpi_target",
        sa.Column("id", ID, nullable=False),
        sa.Column("kpi", sa.String(8), nullable=False),
        sa.Column("scope", sa.String(40), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("comparator", sa.String(2), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kpi_target")),
    )
    op.create_index("ix_kpi_target_kpi_scope_valid_from", "kpi_target",
                    ["kpi", "scope", "valid_from"])
    now = datetime.now(UTC)
    op.bulk_insert(table, [
        {"kpi": kpi, "scope": "*", "valid_from": start, "valid_to": end, "comparator": comparator,
         "value": value, "source": PLAN, "updated_at": now, "updated_by": "system"}
        for kpi, start, end, comparator, value in DEFAULTS])
    op.create_index("ix_dispute_case_opened_at", "dispute_case", ["opened_at"])
    op.create_index("ix_dispute_case_closed_at", "dispute_case", ["closed_at"])
    op.create_index("ix_work_order_dispatched_at", "work_order", ["dispatched_at"])
    op.create_index("ix_supervision_notice_issued_at", "supervision_notice", ["issued_at"])
    op.create_index("ix_sla_clock_breached_at", "sla_clock", ["breached_at"])
    op.create_index("ix_sla_clock_kind_started_at", "sla_clock", ["kind", "started_at"])


def downgrade() -> None:
    for name, table in (("ix_sla_clock_kind_started_at", "sla_clock"),
                        ("ix_sla_clock_breached_at", "sla_clock"),
                        ("ix_supervision_notice_issued_at", "supervision_notice"),
                        ("ix_work_order_dispatched_at", "work_order"),
                        ("ix_dispute_case_closed_at", "dispute_case"),
                        ("ix_dispute_case_opened_at", "dispute_case")):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_kpi_target_kpi_scope_valid_from", table_name="kpi_target")
    op.drop_table("kpi_target")
