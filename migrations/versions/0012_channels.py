"""Channels in and data out: the interface catalogue (with the push channels' secrets and health),
messages per interface, pushed work orders and their quarantine, the category mapping, and the
append-only case event log with its head row and the readers' cursors.

Mirrors workflows/models/channels.py.

Revision ID: 0012_channels
Revises: 0011_case_participant
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0012_channels"
down_revision = "0011_case_participant"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# the channels every deployment has, as planned rows of the catalogue
SEED = (
    ("hotline_12345", "12345 热线工单", "push_in", "both", ["12345工单", "工单办理回告"], 60),
    ("grid_app", "网格员手机", "app", "in", ["网格员上报"], None),
    ("iot", "物联感知告警", "device", "in", ["设备告警"], 60),
)

PG = """
CREATE OR REPLACE FUNCTION case_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'case_event is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER case_event_no_update BEFORE UPDATE OR DELETE ON case_event
    FOR EACH ROW EXECUTE FUNCTION case_event_append_only();
CREATE TRIGGER case_event_no_truncate BEFORE TRUNCATE ON case_event
    FOR EACH STATEMENT EXECUTE FUNCTION case_event_append_only();
"""
SQLITE = [
    "CREATE TRIGGER case_event_no_update BEFORE UPDATE ON case_event "
    "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END",
    "CREATE TRIGGER case_event_no_delete BEFORE DELETE ON case_event "
    "BEGIN SELECT RAISE(ABORT, 'case_event is append-only'); END",
]


def upgrade() -> None:
    interface = op.create_table(
        "interface",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("owner_unit_id", ID, nullable=True),
        sa.Column("datasets", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("endpoint_url", sa.String(500), nullable=True),
        sa.Column("event_kinds", JSONType, nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_valid_until", UTCDateTime(), nullable=True),
        sa.Column("secret_set_at", UTCDateTime(), nullable=True),
        sa.Column("expected_interval_minutes", sa.Integer(), nullable=True),
        sa.Column("last_success_at", UTCDateTime(), nullable=True),
        sa.Column("last_failure_at", UTCDateTime(), nullable=True),
        sa.Column("last_failure_reason", sa.String(200), nullable=True),
        sa.Column("silence_warned_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["owner_unit_id"], ["department.id"],
                                name=op.f("fk_interface_owner_unit_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interface")),
        sa.UniqueConstraint("code", name=op.f("uq_interface_code")),
    )
    op.create_index(op.f("ix_interface_owner_unit_id"), "interface", ["owner_unit_id"])

    op.create_table(
        "interface_message",
        sa.Column("id", ID, nullable=False),
        sa.Column("interface_id", ID, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.ForeignKeyConstraint(["interface_id"], ["interface.id"],
                                name=op.f("fk_interface_message_interface_id_interface")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interface_message")),
    )
    op.create_index("ix_interface_message_interface_id_at", "interface_message",
                    ["interface_id", "at"])

    op.create_table(
        "channel_order",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("order_no", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=True),
        sa.Column("payload_enc", sa.Text(), nullable=False),
        sa.Column("mapped", JSONType, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("linked_as", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", ID, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_channel_order_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["resolved_by"], ["user_account.id"],
                                name=op.f("fk_channel_order_resolved_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_order")),
        sa.UniqueConstraint("channel", "order_no", name="uq_channel_order_channel_order_no"),
    )
    op.create_index("ix_channel_order_status_created_at", "channel_order",
                    ["status", "created_at"])
    op.create_index(op.f("ix_channel_order_case_id"), "channel_order", ["case_id"])

    op.create_table(
        "category_mapping",
        sa.Column("id", ID, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("source_text", sa.String(100), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", ID, nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["user_account.id"],
                                name=op.f("fk_category_mapping_updated_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category_mapping")),
        sa.UniqueConstraint("channel", "source_text",
                            name="uq_category_mapping_channel_source_text"),
    )

    op.create_table(
        "case_event",
        sa.Column("position", POSITION, autoincrement=False, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("unit_id", ID, nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("data", JSONType, nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_case_event")),
    )
    op.create_index("ix_case_event_unit_id_position", "case_event", ["unit_id", "position"])
    op.create_index("ix_case_event_case_id_position", "case_event", ["case_id", "position"])

    head = op.create_table(
        "case_event_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_position", POSITION, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_position": 0}])

    op.create_table(
        "channel_cursor",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("position", POSITION, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_channel_cursor")),
    )

    now = datetime.now(UTC)
    op.bulk_insert(interface, [
        {"code": code, "name": name, "kind": kind, "direction": direction, "datasets": datasets,
         "status": "planned", "event_kinds": [], "expected_interval_minutes": interval,
         "created_at": now}
        for code, name, kind, direction, datasets, interval in SEED])

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG)
    elif dialect == "sqlite":
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_no_truncate ON case_event")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update ON case_event")
        op.execute("DROP FUNCTION IF EXISTS case_event_append_only()")
    for table in ("channel_cursor", "case_event_head", "case_event", "category_mapping",
                  "channel_order", "interface_message", "interface"):
        op.drop_table(table)
