"""Second factor (TOTP) for sign-in: when a user enrolled and the last accepted time step (a
replayed code is refused), the stage of a login session that has passed the password only, and
the one-time recovery codes (argon2id hashes). user_account.totp_secret_enc exists since 0002.

Mirrors User, LoginSession and RecoveryCode in workflows/models/people.py.

Revision ID: 0016_second_factor
Revises: 0015_case_search
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0016_second_factor"
down_revision = "0015_case_search"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("totp_enrolled_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("login_session") as batch:
        batch.add_column(sa.Column("stage", sa.String(length=16), nullable=False,
                                   server_default="full"))
    op.create_table(
        "recovery_code",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_recovery_code_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index("ix_recovery_code_user_id", "recovery_code", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_recovery_code_user_id", table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("login_session") as batch:
        batch.drop_column("stage")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enrolled_at")
