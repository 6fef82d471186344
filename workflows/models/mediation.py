"""The mediation room: rooms of a unit, booked sessions and their time slots, the expert pool."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class SessionMode(StrEnum):
    """How a session is held: in a room of the unit, or online through a meeting link."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class SessionStatus(StrEnum):
    """Life cycle of a booked session."""

    BOOKED = "booked"        # holds its slots
    HELD = "held"            # took place, both sides attended
    NO_SHOW = "no_show"      # a side did not come
    CANCELLED = "cancelled"  # slots released


class Attendance(StrEnum):
    """How one side took part in a session."""

    IN_PERSON = "in_person"
    ONLINE = "online"
    PHONE = "phone"
    ABSENT = "absent"


class ExpertField(StrEnum):
    """What an expert of the pool knows about."""

    LAW = "law"
    PSYCHOLOGY = "psychology"
    LABOUR = "labour"
    CONSTRUCTION = "construction"
    LAND = "land"


class InvitationStatus(StrEnum):
    """An expert's invitation to a case's session."""

    INVITED = "invited"
    SUBMITTED = "submitted"    # the written opinion is a document of the case
    WITHDRAWN = "withdrawn"


class Room(Base):
    """A mediation room of a unit, with what it is equipped for."""

    __tablename__ = "mediation_room"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(IdType, ForeignKey("department.id"), index=True)
    capacity: Mapped[int] = mapped_column(Integer, default=6)
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    video: Mapped[bool] = mapped_column(Boolean, default=False)
    accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MediationSession(Base):
    """One scheduled session of a case: a room and a time (or a meeting link), then attendance;
    optionally a co-mediator (``co_mediator_id``) besides the case's mediator.

    ``attendance`` maps a side (applicant, respondent) to an ``Attendance`` code; nothing in it
    names a person."""

    __tablename__ = "mediation_session"
    __table_args__ = (
        Index("ix_mediation_session_room_id_starts_at", "room_id", "starts_at"),
        Index("ix_mediation_session_starts_at", "starts_at"),
        Index("ix_mediation_session_co_mediator_id_starts_at", "co_mediator_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("mediation_room.id"))
    mode: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    meeting_link: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.BOOKED)
    task_id: Mapped[str | None] = mapped_column(String(36))
    booked_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # a second mediator taking part (协助调解员), named by the case's mediator
    co_mediator_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    attendance: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RoomSlot(Base):
    """A quarter hour of a room held by a booked session: the primary key is the database's
    guard against two bookings of one room at one time, whatever races the checks lose."""

    __tablename__ = "mediation_room_slot"

    room_id: Mapped[int] = mapped_column(IdType, ForeignKey("mediation_room.id"),
                                         primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    session_id: Mapped[int] = mapped_column(IdType, ForeignKey("mediation_session.id"),
                                            index=True)


class Expert(Base):
    """An expert of the pool; signs in as a user with the role ``expert``.

    The contact (phone or e-mail) is personal data: encrypted, shown masked. ``available_days``
    are ISO weekdays (1 = Monday)."""

    __tablename__ = "mediation_expert"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"), unique=True)
    field: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"), index=True)
    organisation: Mapped[str | None] = mapped_column(String(100))
    organisation_code: Mapped[str | None] = mapped_column(String(18), index=True)
    contact_enc: Mapped[str | None] = mapped_column(Text)
    contact_masked: Mapped[str | None] = mapped_column(String(40))
    available_days: Mapped[list[int]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ExpertInvitation(Base):
    """An expert invited to a session of a case; what the conflict check showed is kept, with
    the mediator's reason for inviting anyway."""

    __tablename__ = "expert_invitation"
    __table_args__ = (
        UniqueConstraint("session_id", "expert_id", name="uq_expert_invitation_session_id_expert_id"),
        Index("ix_expert_invitation_expert_id_status", "expert_id", "status"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    session_id: Mapped[int] = mapped_column(IdType, ForeignKey("mediation_session.id"))
    expert_id: Mapped[int] = mapped_column(IdType, ForeignKey("mediation_expert.id"))
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.INVITED)
    conflicts: Mapped[list[str]] = mapped_column(JSONType, default=list)
    invited_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    shared_note: Mapped[str | None] = mapped_column(Text)
    conflict_reason: Mapped[str | None] = mapped_column(String(200))  # why invited despite them
    document_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("case_document.id"))
