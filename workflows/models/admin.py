"""Administration tables: calendar overrides, channel API tokens, idempotency keys."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class DayKind(StrEnum):
    """What an override makes a calendar day."""

    WORKDAY = "workday"
    HOLIDAY = "holiday"


class VersionStatus(StrEnum):
    """Status of a deployed process version (column ``process_version.status``)."""

    ACTIVE = "active"
    PENDING = "pending"  # waiting for a second process owner's approval
    RETIRED = "retired"


# Chinese words of the statuses in texts workflows writes itself (web/labels.py: pages)
VERSION_STATUS_LABELS: dict[str, str] = {VersionStatus.ACTIVE: "已启用", VersionStatus.PENDING: "待审批",
                         VersionStatus.RETIRED: "已停用"}


class CalendarOverride(Base):
    """An admin's correction of one day; superseded, never deleted, so past calendars rebuild."""

    __tablename__ = "calendar_override"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """A channel system's API token; only the prefix and a hash are stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(8), index=True)
    token_hash: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    # the account whose roles and scope API calls with this token act under (0005_web)
    user_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)   # every token expires (0010)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyKey(Base):
    """Stored result of a channel request, so a re-delivery returns it and creates nothing."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("api_token_id", "key", name="uq_idempotency_key_api_token_id_key"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    api_token_id: Mapped[int] = mapped_column(IdType, ForeignKey("api_token.id"))
    key: Mapped[str] = mapped_column(String(128))
    request_sha256: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)  # exact bytes returned, replayed as is
    case_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
