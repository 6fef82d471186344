"""Indexes for finding where a task that is no longer open went (an API completion that lost a
race answers 409, not 404): its completion event by task id, and the work order whose sign-off
task it was (a deadline may have cancelled it).

Mirrors ix_audit_event_task_completed (engine/models.py) and ix_work_order_task_id
(workflows/models/cases.py).

Revision ID: 0037_task_lookup
Revises: 0036_inbox_keyset
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0037_task_lookup"
down_revision = "0036_inbox_keyset"
branch_labels = None
depends_on = None

TASK_COMPLETED = "action = 'task_completed' AND object_type = 'task'"


def upgrade() -> None:
    op.create_index("ix_audit_event_task_completed", "audit_event", ["object_id"],
                    postgresql_where=sa.text(TASK_COMPLETED), sqlite_where=sa.text(TASK_COMPLETED))
    op.create_index("ix_work_order_task_id", "work_order", ["task_id"])


def downgrade() -> None:
    op.drop_index("ix_work_order_task_id", table_name="work_order")
    op.drop_index("ix_audit_event_task_completed", table_name="audit_event")
