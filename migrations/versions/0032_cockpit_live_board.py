"""The cockpit's live board and supervision-notice rollups (rollup_board, rollup_notice), and
the indexes of open cases by risk colour and place (the board's red-risk list) and of warnings
by kind and time (the hotspot warnings of a period).

Each case's stored facts gain its open-board cell and its notices, and the period rollups gain
year rows (grain ``y``), so a database that already holds cases is marked unbuilt: the cockpit counts the cases directly until ``jiefen cockpit
rebuild`` has run. Mirrors workflows/models/rollups.py.

Revision ID: 0032_cockpit_live_board
Revises: 0031_scheduler_claims
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_cockpit_live_board"
down_revision = "0031_scheduler_claims"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "rollup_board",
        sa.Column("area_path", sa.String(255), primary_key=True),
        sa.Column("unit_id", ID, primary_key=True),
        sa.Column("risk", sa.String(16), primary_key=True),
        sa.Column("light", sa.Integer(), primary_key=True),
        sa.Column("level", sa.Integer(), primary_key=True),
        sa.Column("cases", sa.Integer(), nullable=False))
    op.create_table(
        "rollup_notice",
        sa.Column("grain", sa.String(1), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("area_path", sa.String(255), primary_key=True),
        sa.Column("unit_id", ID, primary_key=True),
        sa.Column("prev", sa.Date(), primary_key=True),
        sa.Column("cases", sa.Integer(), nullable=False))
    op.create_index("ix_dispute_case_open_risk", "dispute_case", ["risk_level", "place_path"],
                    postgresql_ops={"place_path": "text_pattern_ops"},
                    postgresql_where=sa.text("status <> 'closed'"),
                    sqlite_where=sa.text("status <> 'closed'"))
    op.create_index("ix_early_warning_kind_raised_at", "early_warning", ["kind", "raised_at"])
    op.execute(sa.text("UPDATE rollup_state SET built = 0 WHERE EXISTS"
                       " (SELECT 1 FROM dispute_case)"))


def downgrade() -> None:
    op.drop_index("ix_early_warning_kind_raised_at", table_name="early_warning")
    op.drop_index("ix_dispute_case_open_risk", table_name="dispute_case")
    op.drop_table("rollup_notice")
    op.drop_table("rollup_board")
