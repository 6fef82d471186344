"""Web and API access: an API token belongs to a user (its roles and scope apply to API calls).

Revision ID: 0005_web
Revises: 0004_scheduler
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_web"
down_revision = "0004_scheduler"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("user_id", ID, nullable=True))
        batch.create_foreign_key(op.f("fk_api_token_user_id_user_account"), "user_account",
                                 ["user_id"], ["id"])
        batch.create_index(op.f("ix_api_token_user_id"), ["user_id"])


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_index(op.f("ix_api_token_user_id"))
        batch.drop_constraint(op.f("fk_api_token_user_id_user_account"), type_="foreignkey")
        batch.drop_column("user_id")
