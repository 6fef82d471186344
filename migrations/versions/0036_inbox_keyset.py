"""The inbox paged by keyset: one index per part of an inbox, each in the inbox order (deadline,
id), so a page after a cursor reads only its rows — a unit's unassigned tasks of a role, the
unassigned tasks of no unit, the tasks assigned to one user, the few without a deadline. And the case page's warnings about
one case by their subject (it read every warning of the district).

Mirrors OpenTask in workflows/models/casework.py and EarlyWarning in workflows/models/district.py.

Revision ID: 0036_inbox_keyset
Revises: 0035_case_search_scope
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0036_inbox_keyset"
down_revision = "0035_case_search_scope"
branch_labels = None
depends_on = None

GROUP = "assignee_id IS NULL"
UNITLESS = "department_id IS NULL AND assignee_id IS NULL"


def upgrade() -> None:
    op.create_index("ix_open_task_group_due", "open_task",
                    ["role", "department_id", "due_at", "id"],
                    postgresql_where=sa.text(GROUP), sqlite_where=sa.text(GROUP))
    op.create_index("ix_open_task_unitless_due", "open_task", ["role", "due_at", "id"],
                    postgresql_where=sa.text(UNITLESS), sqlite_where=sa.text(UNITLESS))
    op.create_index("ix_open_task_assignee_due", "open_task", ["assignee_id", "due_at", "id"])
    op.create_index("ix_open_task_undated", "open_task", ["id"],
                    postgresql_where=sa.text("due_at IS NULL"), sqlite_where=sa.text("due_at IS NULL"))
    op.create_index("ix_early_warning_subject_key", "early_warning", ["subject_key"])


def downgrade() -> None:
    op.drop_index("ix_early_warning_subject_key", table_name="early_warning")
    op.drop_index("ix_open_task_undated", table_name="open_task")
    op.drop_index("ix_open_task_assignee_due", table_name="open_task")
    op.drop_index("ix_open_task_unitless_due", table_name="open_task")
    op.drop_index("ix_open_task_group_due", table_name="open_task")
