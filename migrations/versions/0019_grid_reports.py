"""Grid workers: the role 网格员, their reports and follow-up visits; attachments of cases
(content-addressed files); an index on the case's owner (a grid worker's and a clerk's scope).

Mirrors workflows/models/grid.py and Case.owner_id in workflows/models/cases.py.

Revision ID: 0019_grid_reports
Revises: 0018_kpi_targets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0019_grid_reports"
down_revision = "0018_kpi_targets"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "grid_report",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("submission_id", ID, nullable=False),
        sa.Column("place_id", ID, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("linked_as", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_grid_report_user_id_user_account")),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_grid_report_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"],
                                name=op.f("fk_grid_report_submission_id_submission")),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"],
                                name=op.f("fk_grid_report_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_report")),
    )
    op.create_index("ix_grid_report_user_id_created_at", "grid_report", ["user_id", "created_at"])
    op.create_index(op.f("ix_grid_report_case_id"), "grid_report", ["case_id"])

    op.create_table(
        "grid_visit",
        sa.Column("id", ID, nullable=False),
        sa.Column("report_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("visited_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["grid_report.id"],
                                name=op.f("fk_grid_visit_report_id_grid_report")),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_grid_visit_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_grid_visit_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_visit")),
    )
    op.create_index(op.f("ix_grid_visit_report_id"), "grid_visit", ["report_id"])

    op.create_table(
        "attachment",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", ID, nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_attachment_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["uploaded_by"], ["user_account.id"],
                                name=op.f("fk_attachment_uploaded_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
        sa.UniqueConstraint("case_id", "sha256", name="uq_attachment_case_id_sha256"),
    )
    op.create_index(op.f("ix_attachment_sha256"), "attachment", ["sha256"])

    op.create_index(op.f("ix_dispute_case_owner_id"), "dispute_case", ["owner_id"])
    # a database whose roles are seeded gets the new one (a fresh one is seeded in full later)
    op.execute("INSERT INTO role (code, name_zh, name_en) SELECT 'grid_worker', '网格员', "
               "'Grid worker' WHERE EXISTS (SELECT 1 FROM role) AND NOT EXISTS "
               "(SELECT 1 FROM role WHERE code = 'grid_worker')")


def downgrade() -> None:
    op.execute("DELETE FROM role WHERE code = 'grid_worker'")
    op.drop_index(op.f("ix_dispute_case_owner_id"), table_name="dispute_case")
    op.drop_table("attachment")
    op.drop_table("grid_visit")
    op.drop_table("grid_report")
