"""IoT alarms: the device registry (a device sits at a building), alarm episodes on a case,
each message a device sent, and the quarantine of messages from unknown devices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType, utcnow


class AlarmKind(StrEnum):
    """What a device reports."""

    SMOKE = "smoke"
    GAS = "gas"
    DOOR_FORCED = "door_forced"
    WATER_LEAK = "water_leak"
    ELEVATOR_TRAPPED = "elevator_trapped"


# Chinese words in texts workflows writes itself (case summary, CLI); pages use web/labels.py
ALARM_KIND_LABELS: dict[str, str] = {
    AlarmKind.SMOKE: "烟感报警", AlarmKind.GAS: "燃气泄漏", AlarmKind.DOOR_FORCED: "门禁被强行打开",
    AlarmKind.WATER_LEAK: "漏水", AlarmKind.ELEVATOR_TRAPPED: "电梯困人",
}


class AlarmSeverity(StrEnum):
    """How serious the device says an alarm is (lowest first)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


SEVERITY_RANK = {s: rank for rank, s in enumerate(AlarmSeverity)}


class AlarmState(StrEnum):
    """A message's state, and an episode's: alarming or cleared."""

    ALARM = "alarm"
    CLEARED = "cleared"


class QuarantineReason(StrEnum):
    """Why an alarm message was kept aside instead of becoming a case."""

    UNKNOWN_DEVICE = "unknown_device"
    INACTIVE_DEVICE = "inactive_device"


class Device(Base):
    """A registered sensor or gateway channel, installed at a building (``device_id`` is the
    identifier the device sends)."""

    __tablename__ = "iot_device"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    place_id: Mapped[int] = mapped_column(IdType, ForeignKey("place.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeviceAlarm(Base):
    """One alarm episode of a device and kind: the case it opened and how many alarm messages
    it collected (a flapping sensor makes one episode, not a flood of cases)."""

    __tablename__ = "device_alarm"
    __table_args__ = (
        Index("ix_device_alarm_device_pk_kind_last_at", "device_pk", "kind", "last_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    device_pk: Mapped[int] = mapped_column(IdType, ForeignKey("iot_device.id"))
    kind: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=AlarmState.ALARM)
    severity: Mapped[str] = mapped_column(String(16))     # the highest one received
    count: Mapped[int] = mapped_column(Integer, default=1)  # alarm messages (not clears)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlarmMessage(Base):
    """One message a device sent; the same message delivered twice is stored once."""

    __tablename__ = "alarm_message"
    __table_args__ = (
        UniqueConstraint("device_pk", "kind", "state", "occurred_at",
                         name="uq_alarm_message_device_pk_kind_state_occurred_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    device_pk: Mapped[int] = mapped_column(IdType, ForeignKey("iot_device.id"))
    alarm_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("device_alarm.id"),
                                                 index=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuarantinedAlarm(Base):
    """An alarm message that could not be matched to a registered device, kept for the intake
    clerks and administrators to look at (nothing is lost)."""

    __tablename__ = "alarm_quarantine"
    __table_args__ = (Index("ix_alarm_quarantine_received_at", "received_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    device_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(32))
    api_token_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("api_token.id"))
