"""The directory stamp: one row moved in the same transaction as any write to the units, places
or roles, so that each process keeps the units and lane roles it read while the stamp is
unchanged (workflows/models/directory.py, workflows/district/directory_cache.py).

Revision ID: 0041_directory_stamp
Revises: 0040_rollup_pending
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0041_directory_stamp"
down_revision = "0040_rollup_pending"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = op.create_table(
        "directory_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_stamp")),
    )
    op.bulk_insert(stamp, [{"id": 1, "version": 1, "token": secrets.randbits(62)}])


def downgrade() -> None:
    op.drop_table("directory_stamp")
