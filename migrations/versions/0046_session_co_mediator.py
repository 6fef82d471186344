"""A mediation session's co-mediator (协助调解员): a second mediator the case's mediator names on a
booked session; they see it among their upcoming sessions and read the case. Mirrors
workflows/models/mediation.py.

Revision ID: 0046_session_co_mediator
Revises: 0045_sqlite_head_triggers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0046_session_co_mediator"
down_revision = "0045_sqlite_head_triggers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mediation_session") as table:
        table.add_column(sa.Column("co_mediator_id", sa.BigInteger().with_variant(
            sa.Integer(), "sqlite"), nullable=True))
        table.create_foreign_key("fk_mediation_session_co_mediator_id_user_account",
                                 "user_account", ["co_mediator_id"], ["id"])
        table.create_index("ix_mediation_session_co_mediator_id_starts_at",
                           ["co_mediator_id", "starts_at"])


def downgrade() -> None:
    with op.batch_alter_table("mediation_session") as table:
        table.drop_index("ix_mediation_session_co_mediator_id_starts_at")
        table.drop_constraint("fk_mediation_session_co_mediator_id_user_account",
                              type_="foreignkey")
        table.drop_column("co_mediator_id")
