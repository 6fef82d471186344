"""The mediation room: rooms per unit, booked sessions with their quarter-hour slots (the primary
key of mediation_room_slot refuses a second booking of a room at the same time), the expert pool
and experts' invitations to sessions.

Mirrors workflows/models/mediation.py.

Revision ID: 0021_mediation_rooms
Revises: 0020_intake_assistant
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from engine.db import JSONType, UTCDateTime

revision = "0021_mediation_rooms"
down_revision = "0020_intake_assistant"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "mediation_room",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("unit_id", ID, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.Column("video", sa.Boolean(), nullable=False),
        sa.Column("accessible", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["department.id"],
                                name=op.f("fk_mediation_room_unit_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_room")),
        sa.UniqueConstraint("code", name=op.f("uq_mediation_room_code")),
    )
    op.create_index(op.f("ix_mediation_room_unit_id"), "mediation_room", ["unit_id"])

    op.create_table(
        "mediation_session",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("room_id", ID, nullable=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("meeting_link", sa.String(300), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("task_id", sa.String(36), nullable=True),
        sa.Column("booked_by", ID, nullable=True),
        sa.Column("attendance", JSONType, nullable=False),
        sa.Column("cancel_reason", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_mediation_session_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["room_id"], ["mediation_room.id"],
                                name=op.f("fk_mediation_session_room_id_mediation_room")),
        sa.ForeignKeyConstraint(["booked_by"], ["user_account.id"],
                                name=op.f("fk_mediation_session_booked_by_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_session")),
    )
    op.create_index(op.f("ix_mediation_session_case_id"), "mediation_session", ["case_id"])
    op.create_index("ix_mediation_session_room_id_starts_at", "mediation_session",
                    ["room_id", "starts_at"])
    op.create_index("ix_mediation_session_starts_at", "mediation_session", ["starts_at"])

    op.create_table(
        "mediation_room_slot",
        sa.Column("room_id", ID, nullable=False),
        sa.Column("slot_start", UTCDateTime(), nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["mediation_room.id"],
                                name=op.f("fk_mediation_room_slot_room_id_mediation_room")),
        sa.ForeignKeyConstraint(["session_id"], ["mediation_session.id"],
                                name=op.f("fk_mediation_room_slot_session_id_mediation_session")),
        sa.PrimaryKeyConstraint("room_id", "slot_start", name=op.f("pk_mediation_room_slot")),
    )
    op.create_index(op.f("ix_mediation_room_slot_session_id"), "mediation_room_slot",
                    ["session_id"])

    op.create_table(
        "mediation_expert",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("field", sa.String(16), nullable=False),
        sa.Column("unit_id", ID, nullable=True),
        sa.Column("organisation", sa.String(100), nullable=True),
        sa.Column("organisation_code", sa.String(18), nullable=True),
        sa.Column("contact_enc", sa.Text(), nullable=True),
        sa.Column("contact_masked", sa.String(40), nullable=True),
        sa.Column("available_days", JSONType, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_mediation_expert_user_id_user_account")),
        sa.ForeignKeyConstraint(["unit_id"], ["department.id"],
                                name=op.f("fk_mediation_expert_unit_id_department")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediation_expert")),
        sa.UniqueConstraint("user_id", name=op.f("uq_mediation_expert_user_id")),
    )
    op.create_index(op.f("ix_mediation_expert_unit_id"), "mediation_expert", ["unit_id"])
    op.create_index(op.f("ix_mediation_expert_organisation_code"), "mediation_expert",
                    ["organisation_code"])

    op.create_table(
        "expert_invitation",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("expert_id", ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("conflicts", JSONType, nullable=False),
        sa.Column("invited_by", ID, nullable=True),
        sa.Column("invited_at", UTCDateTime(), nullable=False),
        sa.Column("shared_note", sa.Text(), nullable=True),
        sa.Column("document_id", ID, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["dispute_case.id"],
                                name=op.f("fk_expert_invitation_case_id_dispute_case")),
        sa.ForeignKeyConstraint(["session_id"], ["mediation_session.id"],
                                name=op.f("fk_expert_invitation_session_id_mediation_session")),
        sa.ForeignKeyConstraint(["expert_id"], ["mediation_expert.id"],
                                name=op.f("fk_expert_invitation_expert_id_mediation_expert")),
        sa.ForeignKeyConstraint(["invited_by"], ["user_account.id"],
                                name=op.f("fk_expert_invitation_invited_by_user_account")),
        sa.ForeignKeyConstraint(["document_id"], ["case_document.id"],
                                name=op.f("fk_expert_invitation_document_id_case_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_invitation")),
        sa.UniqueConstraint("session_id", "expert_id",
                            name="uq_expert_invitation_session_id_expert_id"),
    )
    op.create_index(op.f("ix_expert_invitation_case_id"), "expert_invitation", ["case_id"])
    op.create_index("ix_expert_invitation_expert_id_status", "expert_invitation",
                    ["expert_id", "status"])


def downgrade() -> None:
    op.drop_table("expert_invitation")
    op.drop_table("mediation_expert")
    op.drop_table("mediation_room_slot")
    op.drop_table("mediation_session")
    op.drop_table("mediation_room")
