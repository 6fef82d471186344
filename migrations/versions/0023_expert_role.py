"""The role 专家 (expert): an expert of the pool signs in with it and sees only the cases they
are invited to (the tables mediation_expert and expert_invitation came with 0021); an
invitation keeps the mediator's reason for inviting despite a conflict of interest.

Mirrors RoleCode.EXPERT in workflows/models/people.py and ExpertInvitation.conflict_reason in
workflows/models/mediation.py.

Revision ID: 0023_expert_role
Revises: 0022_notice_closed
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023_expert_role"
down_revision = "0022_notice_closed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("expert_invitation") as batch:
        batch.add_column(sa.Column("conflict_reason", sa.String(200), nullable=True))
    # a database whose roles are seeded gets the new one (a fresh one is seeded in full later)
    op.execute("INSERT INTO role (code, name_zh, name_en) SELECT 'expert', '专家', 'Expert' "
               "WHERE EXISTS (SELECT 1 FROM role) AND NOT EXISTS "
               "(SELECT 1 FROM role WHERE code = 'expert')")


def downgrade() -> None:
    op.execute("DELETE FROM user_role WHERE role_id IN (SELECT id FROM role WHERE code = 'expert')")
    op.execute("DELETE FROM role WHERE code = 'expert'")
    with op.batch_alter_table("expert_invitation") as batch:
        batch.drop_column("conflict_reason")
