"""Signed verification positions per audit chain (audit_chain_verified), so a nightly or
on-page verification re-hashes only the events appended since the previous one.

Mirrors AuditChainVerified in engine/models.py.

Revision ID: 0026_audit_verified
Revises: 0025_text_size
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0026_audit_verified"
down_revision = "0025_text_size"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_verified",
        sa.Column("chain_key", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("verified_at", UTCDateTime(), nullable=False),
        sa.Column("mac", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("chain_key", name="pk_audit_chain_verified"),
    )


def downgrade() -> None:
    op.drop_table("audit_chain_verified")
