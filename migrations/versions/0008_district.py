"""The district itself: places, units at places, case locations, richer parties, early warnings.

Each existing department becomes a unit of the kind named by its code, without a place (it
serves the whole district), so users, work orders and cases keep their units unchanged.
Mirrors workflows/models/district.py and the new columns in cases.py, casework.py, people.py.

Revision ID: 0008_district
Revises: 0007_sla_failures
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0008_district"
down_revision = "0007_sla_failures"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "place",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("path", sa.String(255), nullable=False),
        sa.Column("address", sa.String(200), nullable=True),
        sa.Column("address_key", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["place.id"], name=op.f("fk_place_parent_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place")),
        sa.UniqueConstraint("code", name=op.f("uq_place_code")),
    )
    op.create_index("ix_place_path", "place", ["path"],
                    postgresql_ops={"path": "text_pattern_ops"})
    op.create_index("ix_place_address_key", "place", ["address_key"])
    op.create_index(op.f("ix_place_parent_id"), "place", ["parent_id"])

    op.create_table(
        "early_warning",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("place_id", ID, nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("case_ids", JSONType, nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"],
                                name=op.f("fk_early_warning_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_early_warning")),
    )
    op.create_index("ix_early_warning_place_id_category_window_start", "early_warning",
                    ["place_id", "category", "window_start"])
    op.create_index("ix_early_warning_state_raised_at", "early_warning", ["state", "raised_at"])

    with op.batch_alter_table("department") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=True))
        batch.add_column(sa.Column("place_id", ID, nullable=True))
        batch.create_foreign_key(op.f("fk_department_place_id_place"), "place", ["place_id"],
                                 ["id"])
    op.execute("UPDATE department SET kind = code")
    with op.batch_alter_table("department") as batch:
        batch.alter_column("kind", existing_type=sa.String(32), nullable=False)
    op.create_index("ix_department_kind_place_id", "department", ["kind", "place_id"])

    with op.batch_alter_table("dispute_case") as batch:
        batch.add_column(sa.Column("registered_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("received_late_reason", sa.String(200), nullable=True))
        batch.add_column(sa.Column("place_id", ID, nullable=True))
        batch.add_column(sa.Column("place_path", sa.String(255), nullable=True))
        batch.add_column(sa.Column("location_detail", sa.String(200), nullable=True))
        batch.add_column(sa.Column("amount", sa.Numeric(14, 2), nullable=True))
        batch.create_foreign_key(op.f("fk_dispute_case_place_id_place"), "place", ["place_id"],
                                 ["id"])
    op.execute("UPDATE dispute_case SET registered_at = opened_at")
    op.create_index("ix_dispute_case_place_path", "dispute_case", ["place_path"],
                    postgresql_ops={"place_path": "text_pattern_ops"})
    op.create_index("ix_dispute_case_place_id_category_opened_at", "dispute_case",
                    ["place_id", "category", "opened_at"])

    with op.batch_alter_table("party") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="person"))
        batch.add_column(sa.Column("credit_code", sa.String(18), nullable=True))
        batch.add_column(sa.Column("age", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("birth_date_enc", sa.Text(), nullable=True))
    with op.batch_alter_table("party") as batch:
        batch.alter_column("kind", existing_type=sa.String(16), server_default=None)

    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("linked_by", sa.String(16), nullable=True))
    op.execute("UPDATE submission SET linked_by = 'person' WHERE linked_as = 'duplicate'")


def downgrade() -> None:
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("linked_by")
    with op.batch_alter_table("party") as batch:
        for column in ("birth_date_enc", "age", "credit_code", "kind"):
            batch.drop_column(column)
    op.drop_index("ix_dispute_case_place_id_category_opened_at", table_name="dispute_case")
    op.drop_index("ix_dispute_case_place_path", table_name="dispute_case")
    with op.batch_alter_table("dispute_case") as batch:
        batch.drop_constraint(op.f("fk_dispute_case_place_id_place"), type_="foreignkey")
        for column in ("amount", "location_detail", "place_path", "place_id",
                       "received_late_reason", "registered_at"):
            batch.drop_column(column)
    op.drop_index("ix_department_kind_place_id", table_name="department")
    with op.batch_alter_table("department") as batch:
        batch.drop_constraint(op.f("fk_department_place_id_place"), type_="foreignkey")
        batch.drop_column("place_id")
        batch.drop_column("kind")
    op.drop_table("early_warning")
    op.drop_table("place")
