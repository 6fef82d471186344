"""The case list of a unit below the district: its street's (township's) cases in registration
order, with what the scope and the category and status filters check, on PostgreSQL.

A street centre's list walked the registration index of every case and fetched each row to
check its place (page 200: 55,000 rows for its 5,000). This index starts with the street of the
place path (``split_part(place_path, '/', 3)``, ``STREET_KEY_SQL``), so the walk stays within
the street and checks tier, place, category and status in the index (an index-only scan).
SQLite keeps its plans (no index).
Mirrors Case in workflows/models/cases.py.

Revision ID: 0038_case_street_order
Revises: 0037_task_lookup
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0038_case_street_order"
down_revision = "0037_task_lookup"
branch_labels = None
depends_on = None

NAME = "ix_dispute_case_street_registered_at_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(NAME, "dispute_case",
                    [sa.text("split_part(place_path, '/', 3)"), "registered_at", "id"],
                    postgresql_include=["tier", "place_path", "category", "status"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(NAME, table_name="dispute_case")
