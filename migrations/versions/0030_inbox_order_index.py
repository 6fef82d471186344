"""The inbox's default order as an index: open_task (role, due_at, id), so a page of a large
group inbox walks the index and stops after its rows instead of sorting every task.

Mirrors OpenTask in workflows/models/casework.py.

Revision ID: 0030_inbox_order_index
Revises: 0029_dry_run_examples
"""

from __future__ import annotations

from alembic import op

revision = "0030_inbox_order_index"
down_revision = "0029_dry_run_examples"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_open_task_role_due_at_id", "open_task", ["role", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_open_task_role_due_at_id", table_name="open_task")
