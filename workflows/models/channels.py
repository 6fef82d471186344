"""Channels in and data out: the interface catalogue, pushed work orders and their quarantine,
the category mapping of a channel, and the append-only case event log that feeds read."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow

PositionType = BigInteger().with_variant(Integer(), "sqlite")


class InterfaceKind(StrEnum):
    """What an interface of the catalogue is."""

    PUSH_IN = "push_in"        # a system pushes work orders in (12345) and gets callbacks
    DEVICE = "device"          # machines and gateways send alarms (IoT)
    APP = "app"                # people's devices (the grid worker's phone)
    FEED = "feed"              # a unit's subscription to case events (pushed out)
    SHARE = "share"            # a data-sharing link with a department (catalogue only)


class Direction(StrEnum):
    """Which way data flows, seen from jiefen."""

    IN = "in"
    OUT = "out"
    BOTH = "both"


class InterfaceStatus(StrEnum):
    """Whether an interface is in use."""

    CONNECTED = "connected"
    PLANNED = "planned"
    DISABLED = "disabled"


class OrderStatus(StrEnum):
    """A pushed work order: registered as a case (or link), waiting in quarantine, or
    registered by a clerk from the quarantine."""

    REGISTERED = "registered"
    QUARANTINED = "quarantined"
    RESOLVED = "resolved"


class CaseEventKind(StrEnum):
    """What happened to a case, as feeds and the events API tell it."""

    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    SIGNED_OFF = "signed_off"
    PROGRESS = "progress"
    DEADLINE_NEAR = "deadline_near"
    OVERDUE = "overdue"
    CLOSED = "closed"
    RATED = "rated"


class Interface(Base):
    """One row of the interface catalogue: a channel in, a feed out or a planned data link."""

    __tablename__ = "interface"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    owner_unit_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"),
                                                      index=True)
    datasets: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16), default=InterfaceStatus.PLANNED)
    endpoint_url: Mapped[str | None] = mapped_column(String(500))   # callbacks or the feed target
    event_kinds: Mapped[list[str]] = mapped_column(JSONType, default=list)   # feeds
    # the shared secret, encrypted (HMAC needs it back); the previous one until its grace ends
    secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_secret_enc: Mapped[str | None] = mapped_column(Text)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    secret_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expected_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_reason: Mapped[str | None] = mapped_column(String(200))
    silence_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InterfaceMessage(Base):
    """One message through an interface, ok or not (counts per hour and day on the health page)."""

    __tablename__ = "interface_message"
    __table_args__ = (Index("ix_interface_message_interface_id_at", "interface_id", "at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    interface_id: Mapped[int] = mapped_column(IdType, ForeignKey("interface.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str | None] = mapped_column(String(200))


class ChannelOrder(Base):
    """A work order pushed by a channel: its number is the idempotency key. The payload (it
    holds the caller's name and phone) is stored encrypted; ``mapped`` holds what mapping found,
    without personal data."""

    __tablename__ = "channel_order"
    __table_args__ = (
        UniqueConstraint("channel", "order_no", name="uq_channel_order_channel_order_no"),
        Index("ix_channel_order_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    order_no: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payload_enc: Mapped[str] = mapped_column(Text)
    mapped: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    case_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    linked_as: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))


class CategoryMapping(Base):
    """A channel's 诉求类型 text and the category it means (edited by admins)."""

    __tablename__ = "category_mapping"
    __table_args__ = (
        UniqueConstraint("channel", "source_text", name="uq_category_mapping_channel_source_text"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    source_text: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))


class CaseEvent(Base):
    """An append-only event about a case, written in the transaction of the change. The
    position is handed out at commit under the head row's lock, so positions follow commit
    order and a reader's cursor never skips an event committed late."""

    __tablename__ = "case_event"
    __table_args__ = (
        Index("ix_case_event_unit_id_position", "unit_id", "position"),
        Index("ix_case_event_case_id_position", "case_id", "position"),
    )

    # no foreign keys: an append-only log names rows, it does not hold them in place
    position: Mapped[int] = mapped_column(PositionType, primary_key=True, autoincrement=False)
    case_id: Mapped[int] = mapped_column(IdType)
    unit_id: Mapped[int | None] = mapped_column(IdType)
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)   # no personal data


class CaseEventHead(Base):
    """The last position handed out (one row, locked by the appending transaction)."""

    __tablename__ = "case_event_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_position: Mapped[int] = mapped_column(PositionType, default=0)


# SQLite: a case event moves the head forward (one INSERT per append); the trigger of migration
# 0045, for a database made from the models (tests)
CASE_EVENT_HEAD_TRIGGER = (
    "CREATE TRIGGER case_event_moves_head AFTER INSERT ON case_event BEGIN "
    "UPDATE case_event_head SET last_position = NEW.position "
    "WHERE id = 1 AND last_position < NEW.position; END")


@event.listens_for(Base.metadata, "after_create")
def _case_event_head_trigger(_metadata: Any, connection: Connection, tables: Any = (),
                             **_kw: Any) -> None:
    names = {table.name for table in tables}
    if connection.dialect.name == "sqlite" and {"case_event", "case_event_head"} <= names:
        connection.exec_driver_sql(CASE_EVENT_HEAD_TRIGGER)


class ChannelCursor(Base):
    """How far a reader of the event log (the feed fan-out) has come."""

    __tablename__ = "channel_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(PositionType, default=0)
