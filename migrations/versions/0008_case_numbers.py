"""Case code counter per year (case_number): intakes queue on the year's row for the next number
instead of racing on max + 1. Seeded from the codes already issued.

Mirrors CaseNumber in workflows/models/cases.py.

Revision ID: 0008_case_numbers
Revises: 0007_district
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0008_case_numbers"
down_revision = "0007_district"
branch_labels = None
depends_on = None

CODE = re.compile(r"JF-(\d{4})-(\d+)")


def upgrade() -> None:
    table = op.create_table(
        "case_number",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_number")),
    )
    last: dict[int, int] = {}
    for (code,) in op.get_bind().execute(sa.text("SELECT case_no FROM dispute_case")):
        match = CODE.fullmatch(code or "")
        if match:
            year, number = int(match.group(1)), int(match.group(2))
            last[year] = max(last.get(year, 0), number)
    if last:
        op.bulk_insert(table, [{"year": y, "last_no": n} for y, n in sorted(last.items())])


def downgrade() -> None:
    op.drop_table("case_number")
