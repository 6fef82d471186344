"""Tables of the scheduler area: work-order SLA watch, supervision notices, clock requests, reports.

Created by migrations/versions/0004_scheduler.py.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class NoticeKind(StrEnum):
    """The rungs of the escalation ladder: L0 reminder .. L3 leadership."""

    REMINDER = "reminder"          # L0 催办
    SUPERVISION = "supervision"    # L1 督办单 with a reply deadline
    UPGRADE = "upgrade"            # L2 tier upgrade, 挂牌督办, monthly bulletin
    LEADERSHIP = "leadership"      # L3 领导包案


class RequestKind(StrEnum):
    """What a clock request asks for."""

    SUSPEND = "suspend"  # 中止: the clock stops until resumed (capped)
    EXTEND = "extend"    # 延期: the due time moves on by a spec from the original expiry


class RequestStatus(StrEnum):
    """Life cycle of a clock request."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    ENDED = "ended"      # an approved suspension that was resumed


class WorkOrderSla(Base):
    """When a work order's timeliness light must next be recomputed (swept like ``due_at``)."""

    __tablename__ = "work_order_sla"
    __table_args__ = (
        Index("ix_work_order_sla_next_check_at", "next_check_at",
              postgresql_where=text("next_check_at IS NOT NULL"),
              sqlite_where=text("next_check_at IS NOT NULL")),
    )

    work_order_id: Mapped[int] = mapped_column(IdType, ForeignKey("work_order.id"),
                                               primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    response_policy: Mapped[str] = mapped_column(String(64))   # PT2H / PT24H (T-01)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the last check that took an overdue 督办单's reply deadline in (only then written)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SupervisionNotice(Base):
    """One rung of the ladder sent for a case (what supervisors sent; the 督办单 reply)."""

    __tablename__ = "supervision_notice"
    __table_args__ = (
        Index("ix_supervision_notice_reply_due_at", "reply_due_at",
              postgresql_where=text("replied_at IS NULL AND reply_due_at IS NOT NULL"),
              sqlite_where=text("replied_at IS NULL AND reply_due_at IS NOT NULL")),
        Index("ix_supervision_notice_issued_at", "issued_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("work_order.id"))
    department_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("department.id"))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(64))     # e.g. work_order:response, sla:first_contact
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(64))  # actor id (scheduler, user id)
    limit_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply_note: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the case closed unanswered


class SlaRequest(Base):
    """A suspension or extension of a supervision clock: requested with a reason, approved."""

    __tablename__ = "sla_request"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    clock_id: Mapped[int] = mapped_column(IdType, ForeignKey("sla_clock.id"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    extension: Mapped[str | None] = mapped_column(String(64))   # deadline spec for 'extend'
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.PENDING)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Report(Base):
    """A generated periodic report (周调度 / 月通报 / 季评估), stored for listing and download."""

    __tablename__ = "report"
    __table_args__ = (UniqueConstraint("kind", "period_start", "period_end",
                                       name="uq_report_kind_period_start_period_end"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))        # weekly | monthly | quarterly
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)       # inclusive
    title: Mapped[str] = mapped_column(String(200))
    columns: Mapped[list] = mapped_column(JSONType)      # [[key, label], ...]
    rows: Mapped[list] = mapped_column(JSONType)         # [{key: value}, ...]; no personal data
    summary: Mapped[dict] = mapped_column(JSONType)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_by: Mapped[str] = mapped_column(String(64))


class SchedulerClaim(Base):
    """Which scheduler process ran a once-per-period job (several schedulers may share one
    database: the first to insert the job's slot runs it, the others skip)."""

    __tablename__ = "scheduler_claim"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    slot: Mapped[str] = mapped_column(String(40), primary_key=True)   # e.g. the local date
    claimed_by: Mapped[str] = mapped_column(String(100))               # host:pid
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
