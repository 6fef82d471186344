"""Cases followed on a statutory channel after screening (case_legal_path): the path, when the
case entered it, and when a petition's 复核 was answered (final).

Mirrors CaseLegalPath in workflows/models/casework.py.

Revision ID: 0027_legal_path
Revises: 0026_audit_verified
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0027_legal_path"
down_revision = "0026_audit_verified"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_legal_path",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("path", sa.String(32), nullable=False),
        sa.Column("entered_at", UTCDateTime(), nullable=False),
        sa.Column("final_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_case_legal_path_case_id_dispute_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_legal_path")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_legal_path_case_id")),
    )
    op.create_index(op.f("ix_case_legal_path_path"), "case_legal_path", ["path"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_legal_path_path"), table_name="case_legal_path")
    op.drop_table("case_legal_path")
