"""Case code counter per year (case_number): intakes queue on the year's row for the next number
instead of racing on max + 1; seeded from the codes already issued. Every API token expires:
tokens issued without an expiry, or valid for more than the longest lifetime (366 days) from now,
expire 90 days after the upgrade (time to rotate them), and api_token.expires_at becomes NOT NULL.

Mirrors CaseNumber in workflows/models/cases.py and ApiToken in workflows/models/admin.py.

Revision ID: 0010_counter_token_expiry
Revises: 0009_user_mobile
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0010_counter_token_expiry"
down_revision = "0009_user_mobile"
branch_labels = None
depends_on = None

CODE = re.compile(r"JF-(\d{4})-(\d+)")
GRACE, LONGEST = timedelta(days=90), timedelta(days=366)


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

    tokens = sa.table("api_token", sa.column("expires_at", UTCDateTime()))
    now = datetime.now(UTC)
    op.execute(tokens.update().where(sa.or_(tokens.c.expires_at.is_(None),
                                            tokens.c.expires_at > now + LONGEST))
               .values(expires_at=now + GRACE))
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=UTCDateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=UTCDateTime(), nullable=True)
    op.drop_table("case_number")
