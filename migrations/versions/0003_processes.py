"""Process drafts: files a process owner is editing; never executed.

Revision ID: 0003_processes
Revises: 0002_domain
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0003_processes"
down_revision = "0002_domain"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "process_draft",
        sa.Column("id", ID, nullable=False),
        sa.Column("process_id", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("files", JSONType, nullable=False),
        sa.Column("base_version_id", ID, nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["base_version_id"], ["process_version.id"],
                                name=op.f("fk_process_draft_base_version_id_process_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_draft")),
    )
    op.create_index(op.f("ix_process_draft_process_id"), "process_draft", ["process_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_process_draft_process_id"), table_name="process_draft")
    op.drop_table("process_draft")
