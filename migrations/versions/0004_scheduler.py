"""Scheduler area: work-order SLA watch, supervision notices, clock requests, stored reports.

Mirrors workflows/models/scheduling.py (tests/workflows/test_reports.py compares them).

Revision ID: 0004_scheduler
Revises: 0003_processes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0004_scheduler"
down_revision = "0003_processes"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _col(name: str, kind, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, kind, nullable=nullable)


def _fk(table: str, column: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.{key}"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def _partial_index(name: str, table: str, column: str, where: str) -> None:
    op.create_index(op.f(name), table, [column], postgresql_where=sa.text(where),
                    sqlite_where=sa.text(where))


def upgrade() -> None:
    op.create_table(
        "work_order_sla",
        _col("work_order_id", ID),
        _col("case_id", ID),
        _col("response_policy", sa.String(64)),
        _col("response_due_at", UTCDateTime()),
        _col("next_check_at", UTCDateTime(), nullable=True),
        _col("checked_at", UTCDateTime(), nullable=True),
        _fk("work_order_sla", "work_order_id", "work_order"),
        _fk("work_order_sla", "case_id", "dispute_case"),
        sa.PrimaryKeyConstraint("work_order_id", name=op.f("pk_work_order_sla")),
    )
    op.create_index(op.f("ix_work_order_sla_case_id"), "work_order_sla", ["case_id"])
    _partial_index("ix_work_order_sla_next_check_at", "work_order_sla", "next_check_at",
                   "next_check_at IS NOT NULL")
    op.create_table(
        "supervision_notice",
        _col("id", ID),
        _col("case_id", ID),
        _col("work_order_id", ID, nullable=True),
        _col("department_id", ID, nullable=True),
        _col("level", sa.Integer()),
        _col("kind", sa.String(16)),
        _col("reason", sa.String(200)),
        _col("source", sa.String(64)),
        _col("issued_at", UTCDateTime()),
        _col("issued_by", sa.String(64)),
        _col("limit_due_at", UTCDateTime(), nullable=True),
        _col("reply_due_at", UTCDateTime(), nullable=True),
        _col("replied_at", UTCDateTime(), nullable=True),
        _col("reply_note", sa.Text(), nullable=True),
        _col("dedupe_key", sa.String(200)),
        _fk("supervision_notice", "case_id", "dispute_case"),
        _fk("supervision_notice", "work_order_id", "work_order"),
        _fk("supervision_notice", "department_id", "department"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_notice")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_supervision_notice_dedupe_key")),
    )
    op.create_index(op.f("ix_supervision_notice_case_id"), "supervision_notice", ["case_id"])
    _partial_index("ix_supervision_notice_reply_due_at", "supervision_notice", "reply_due_at",
                   "replied_at IS NULL AND reply_due_at IS NOT NULL")
    op.create_table(
        "sla_request",
        _col("id", ID),
        _col("case_id", ID),
        _col("clock_id", ID),
        _col("kind", sa.String(16)),
        _col("reason", sa.Text()),
        _col("extension", sa.String(64), nullable=True),
        _col("status", sa.String(16)),
        _col("requested_by", sa.String(64)),
        _col("requested_at", UTCDateTime()),
        _col("decided_by", sa.String(64), nullable=True),
        _col("decided_at", UTCDateTime(), nullable=True),
        _col("decision_note", sa.Text(), nullable=True),
        _col("ended_at", UTCDateTime(), nullable=True),
        _fk("sla_request", "case_id", "dispute_case"),
        _fk("sla_request", "clock_id", "sla_clock"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_request")),
    )
    op.create_index(op.f("ix_sla_request_case_id"), "sla_request", ["case_id"])
    op.create_table(
        "report",
        _col("id", ID),
        _col("kind", sa.String(16)),
        _col("period_start", sa.Date()),
        _col("period_end", sa.Date()),
        _col("title", sa.String(200)),
        _col("columns", JSONType),
        _col("rows", JSONType),
        _col("summary", JSONType),
        _col("generated_at", UTCDateTime()),
        _col("generated_by", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report")),
        sa.UniqueConstraint("kind", "period_start", name=op.f("uq_report_kind_period_start")),
    )


def downgrade() -> None:
    op.drop_table("report")
    op.drop_index(op.f("ix_sla_request_case_id"), table_name="sla_request")
    op.drop_table("sla_request")
    op.drop_index(op.f("ix_supervision_notice_reply_due_at"), table_name="supervision_notice")
    op.drop_index(op.f("ix_supervision_notice_case_id"), table_name="supervision_notice")
    op.drop_table("supervision_notice")
    op.drop_index(op.f("ix_work_order_sla_next_check_at"), table_name="work_order_sla")
    op.drop_index(op.f("ix_work_order_sla_case_id"), table_name="work_order_sla")
    op.drop_table("work_order_sla")
