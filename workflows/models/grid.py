"""Grid workers' reports and follow-up visits, and files attached to cases."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType, utcnow


class VisitOutcome(StrEnum):
    """What a grid worker found on a follow-up visit."""

    RESOLVED = "resolved"            # the matter is settled on the spot
    ONGOING = "ongoing"              # still going on, being handled
    WORSE = "worse"                  # it got worse: the handlers should hear of it


class GridReport(Base):
    """One report a grid worker sent from their grid: the case it opened or joined."""

    __tablename__ = "grid_report"
    __table_args__ = (Index("ix_grid_report_user_id_created_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    submission_id: Mapped[int] = mapped_column(IdType, ForeignKey("submission.id"))
    place_id: Mapped[int] = mapped_column(IdType, ForeignKey("place.id"))
    category: Mapped[str] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(String(200))      # checked free of personal data
    linked_as: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GridVisit(Base):
    """A follow-up visit a grid worker recorded on a report of theirs."""

    __tablename__ = "grid_visit"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    report_id: Mapped[int] = mapped_column(IdType, ForeignKey("grid_report.id"), index=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("user_account.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200))         # checked free of personal data
    visited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(Base):
    """A file attached to a case, stored outside the web root by its SHA-256
    (``<instance>/attachments/ab/abcdef…``); one row per case and content."""

    __tablename__ = "attachment"
    __table_args__ = (UniqueConstraint("case_id", "sha256", name="uq_attachment_case_id_sha256"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
