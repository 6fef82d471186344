"""IoT alarms: the device registry, alarm episodes on cases, every message a device sent, and
the quarantine of alarms from unknown devices.

Mirrors workflows/models/alarms.py.

Revision ID: 0014_iot_alarms
Revises: 0013_warning_rules
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import UTCDateTime

revision = "0014_iot_alarms"
down_revision = "0013_warning_rules"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "iot_device",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("place_id", ID, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["place_id"], ["place.id"],
                                name=op.f("fk_iot_device_place_id_place")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iot_device")),
        sa.UniqueConstraint("device_id", name=op.f("uq_iot_device_device_id")),
    )
    op.create_index(op.f("ix_iot_device_place_id"), "iot_device", ["place_id"])

    op.create_table(
        "device_alarm",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_pk", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("cleared_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["device_pk"], ["iot_device.id"],
                                name=op.f("fk_device_alarm_device_pk_iot_device")),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_device_alarm_case_id_dispute_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_alarm")),
    )
    op.create_index("ix_device_alarm_device_pk_kind_last_at", "device_alarm",
                    ["device_pk", "kind", "last_at"])
    op.create_index(op.f("ix_device_alarm_case_id"), "device_alarm", ["case_id"])

    op.create_table(
        "alarm_message",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_pk", ID, nullable=False),
        sa.Column("alarm_id", ID, nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["device_pk"], ["iot_device.id"],
                                name=op.f("fk_alarm_message_device_pk_iot_device")),
        sa.ForeignKeyConstraint(["alarm_id"], ["device_alarm.id"],
                                name=op.f("fk_alarm_message_alarm_id_device_alarm")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_message")),
        sa.UniqueConstraint("device_pk", "kind", "state", "occurred_at",
                            name="uq_alarm_message_device_pk_kind_state_occurred_at"),
    )
    op.create_index(op.f("ix_alarm_message_alarm_id"), "alarm_message", ["alarm_id"])

    op.create_table(
        "alarm_quarantine",
        sa.Column("id", ID, nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("api_token_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["api_token_id"], ["api_token.id"],
                                name=op.f("fk_alarm_quarantine_api_token_id_api_token")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_quarantine")),
    )
    op.create_index("ix_alarm_quarantine_received_at", "alarm_quarantine", ["received_at"])


def downgrade() -> None:
    op.drop_table("alarm_quarantine")
    op.drop_table("alarm_message")
    op.drop_table("device_alarm")
    op.drop_table("iot_device")
