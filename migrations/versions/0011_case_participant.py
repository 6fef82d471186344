"""Users who completed a step of a case keep read access to it (``case_participant``);
filled from the audit trail's completed tasks for the cases that exist.

Revision ID: 0011_case_participant
Revises: 0010_counter_token_expiry
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0011_case_participant"
down_revision = "0010_counter_token_expiry"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_participant",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_case_participant_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_case_participant_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_participant")),
        sa.UniqueConstraint("user_id", "case_id", name="uq_case_participant_user_id_case_id"),
    )
    op.create_index(op.f("ix_case_participant_case_id"), "case_participant", ["case_id"])
    # earlier completions, from the audit trail (actor_id is the user's id as text)
    op.execute("""
        INSERT INTO case_participant (case_id, user_id, first_at)
        SELECT e.case_id, u.id, MIN(e.occurred_at)
        FROM audit_event e JOIN user_account u ON CAST(u.id AS VARCHAR(64)) = e.actor_id
        JOIN dispute_case c ON c.id = e.case_id
        WHERE e.action = 'task_completed' AND e.actor_type IN ('user', 'api')
        GROUP BY e.case_id, u.id
    """)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_participant_case_id"), table_name="case_participant")
    op.drop_table("case_participant")
