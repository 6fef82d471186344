"""Indexes for the case list asked part by part: a task of mine (claimed, or drawn for named
users) found from open_task, the cases I mediate, and a category filter
walked in registration order.

The list asks each part of the caller's scope on its own (workflows/cases/listing.py); the part
"a task of mine" is a BitmapOr over open_task's assignee, claimed_by, the few tasks drawn for
named users (a partial index) and the group's role, instead of a scan of every open task.
Mirrors OpenTask in workflows/models/casework.py and Case in workflows/models/cases.py.

Revision ID: 0035_case_search_scope
Revises: 0034_work_order_unwatched
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0035_case_search_scope"
down_revision = "0034_work_order_unwatched"
branch_labels = None
depends_on = None

DRAWN = "candidate_users IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_open_task_claimed_by", "open_task", ["claimed_by"])
    op.create_index("ix_open_task_candidate_users", "open_task", ["case_id"],
                    postgresql_where=sa.text(DRAWN), sqlite_where=sa.text(DRAWN))
    op.create_index("ix_dispute_case_category_registered_at_id", "dispute_case",
                    ["category", "registered_at", "id"])
    op.create_index("ix_dispute_case_mediator_id", "dispute_case", ["mediator_id"])


def downgrade() -> None:
    op.drop_index("ix_dispute_case_mediator_id", table_name="dispute_case")
    op.drop_index("ix_dispute_case_category_registered_at_id", table_name="dispute_case")
    op.drop_index("ix_open_task_candidate_users", table_name="open_task")
    op.drop_index("ix_open_task_claimed_by", table_name="open_task")
