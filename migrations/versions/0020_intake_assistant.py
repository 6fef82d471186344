"""The intake assistant: intake_suggestion (what was suggested at each registration, the clerk's
final category, the red-flag review) and assistant_model (trained classifiers, one active).

Mirrors workflows/models/assistant.py.

Revision ID: 0020_intake_assistant
Revises: 0019_grid_reports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0020_intake_assistant"
down_revision = "0019_grid_reports"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "intake_suggestion",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("submission_id", ID, nullable=True),
        sa.Column("clerk_id", ID, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("suggested", sa.String(64), nullable=False),
        sa.Column("ranked", JSONType, nullable=False),
        sa.Column("final_category", sa.String(64), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("in_top3", sa.Boolean(), nullable=False),
        sa.Column("shown", sa.Boolean(), nullable=False),
        sa.Column("flags", JSONType, nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=True),
        sa.Column("model_sha", sa.String(64), nullable=False),
        sa.Column("review_state", sa.String(16), nullable=True),
        sa.Column("reviewed_by", ID, nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_intake_suggestion_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["submission_id"], ["submission.id"],
                                name=op.f("fk_intake_suggestion_submission_id_submission")),
        sa.ForeignKeyConstraint(["clerk_id"], ["user_account.id"],
                                name=op.f("fk_intake_suggestion_clerk_id_user_account")),
        sa.ForeignKeyConstraint(["reviewed_by"], ["user_account.id"],
                                name=op.f("fk_intake_suggestion_reviewed_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_intake_suggestion")),
    )
    op.create_index("ix_intake_suggestion_created_at", "intake_suggestion", ["created_at"])
    op.create_index("ix_intake_suggestion_review_state_created_at", "intake_suggestion",
                    ["review_state", "created_at"])
    op.create_index(op.f("ix_intake_suggestion_case_id"), "intake_suggestion", ["case_id"])
    op.create_table(
        "assistant_model",
        sa.Column("id", ID, nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("closed_cases", sa.Integer(), nullable=False),
        sa.Column("cv_top1", sa.Float(), nullable=False),
        sa.Column("cv_top3", sa.Float(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_model")),
    )
    op.create_index("ix_assistant_model_active", "assistant_model", ["active"])


def downgrade() -> None:
    op.drop_table("assistant_model")
    op.drop_table("intake_suggestion")
