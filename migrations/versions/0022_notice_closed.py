"""A 督办单 left unanswered when its case closes is closed with it (supervision_notice.closed_at);
work orders gain the status "closed" (a plain string column: no schema change). Notices of cases
already closed are closed at the upgrade, so no page shows them as waiting for a reply.

Mirrors SupervisionNotice in workflows/models/scheduling.py.

Revision ID: 0022_notice_closed
Revises: 0021_mediation_rooms
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0022_notice_closed"
down_revision = "0021_mediation_rooms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supervision_notice") as batch:
        batch.add_column(sa.Column("closed_at", UTCDateTime(), nullable=True))
    op.execute(sa.text(
        "UPDATE supervision_notice SET closed_at = (SELECT closed_at FROM dispute_case"
        " WHERE dispute_case.id = supervision_notice.case_id)"
        " WHERE replied_at IS NULL AND reply_due_at IS NOT NULL AND case_id IN"
        " (SELECT id FROM dispute_case WHERE status = 'closed')"))
    op.execute(sa.text(
        "UPDATE work_order SET status = 'closed' WHERE status IN"
        " ('dispatched', 'accepted', 'in_progress') AND case_id IN"
        " (SELECT id FROM dispute_case WHERE status = 'closed')"))


def downgrade() -> None:
    with op.batch_alter_table("supervision_notice") as batch:
        batch.drop_column("closed_at")
