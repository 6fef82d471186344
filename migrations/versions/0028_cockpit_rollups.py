"""The cockpit's rollups (rollup_case, rollup_open, rollup_order, rollup_place), each case's
facts behind them (rollup_case_facts) and whether they are built (rollup_state).

A database without cases starts built (every later change is counted in its own transaction);
one that already holds cases starts unbuilt, and the cockpit reads the case tables directly
until ``jiefen cockpit rebuild`` has run. Mirrors workflows/models/rollups.py.

Revision ID: 0028_cockpit_rollups
Revises: 0027_legal_path
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0028_cockpit_rollups"
down_revision = "0027_legal_path"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _keys(*extra: sa.Column) -> list[sa.Column]:
    return [sa.Column("grain", sa.String(1), primary_key=True),
            sa.Column("day", sa.Date(), primary_key=True), *extra]


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def _sum(name: str) -> sa.Column:
    return sa.Column(name, sa.Float(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "rollup_case", *_keys(sa.Column("area_path", sa.String(255), primary_key=True),
                              sa.Column("unit_id", ID, primary_key=True),
                              sa.Column("category", sa.String(32), primary_key=True)),
        *[_count(n) for n in ("received", "closed", "counted", "resolved", "rated",
                              "satisfied", "second")], _sum("days"))
    op.create_table(
        "rollup_open", *_keys(sa.Column("area_path", sa.String(255), primary_key=True),
                              sa.Column("unit_id", ID, primary_key=True),
                              sa.Column("closed", sa.Date(), primary_key=True)),
        _count("cases"))
    op.create_table(
        "rollup_order", *_keys(sa.Column("area_path", sa.String(255), primary_key=True),
                               sa.Column("unit_id", ID, primary_key=True)),
        _count("dispatched"), _count("signed"), _sum("hours"), _count("urgent_signed"),
        _sum("urgent_hours"), _count("done"), _count("done_on_time"), _count("signed_on_time"),
        _count("returns"))
    op.create_table(
        "rollup_place", *_keys(sa.Column("place_id", ID, primary_key=True),
                               sa.Column("category", sa.String(32), primary_key=True)),
        sa.Column("place_path", sa.String(255), nullable=False), _count("received"))
    op.create_table("rollup_case_facts", sa.Column("case_id", ID, primary_key=True),
                    sa.Column("facts", sa.Text(), nullable=False))
    op.create_table("rollup_state", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("built", sa.Integer(), nullable=False),
                    sa.Column("rebuilt_at", UTCDateTime(), nullable=True))
    op.execute(sa.text("INSERT INTO rollup_state (id, built) SELECT 1, CASE WHEN EXISTS"
                       " (SELECT 1 FROM dispute_case) THEN 0 ELSE 1 END"))


def downgrade() -> None:
    for table in ("rollup_state", "rollup_case_facts", "rollup_place", "rollup_order",
                  "rollup_open", "rollup_case"):
        op.drop_table(table)
