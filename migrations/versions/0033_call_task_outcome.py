"""The legal window a phone-call task is about: its T-id, the typed start date and the last day
(the call list tells the caller what to say); the outcome and note columns already exist.

Mirrors CallTask in workflows/models/casework.py.

Revision ID: 0033_call_task_outcome
Revises: 0032_cockpit_live_board
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0033_call_task_outcome"
down_revision = "0032_cockpit_live_board"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_task") as batch:
        batch.add_column(sa.Column("window_id", sa.String(8), nullable=True))
        batch.add_column(sa.Column("window_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("window_end", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_task") as batch:
        batch.drop_column("window_end")
        batch.drop_column("window_start")
        batch.drop_column("window_id")
