"""Case types: which deployed process a new case of a category (and channel) starts on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType, utcnow


class CaseType(Base):
    """A category, optionally narrowed to one channel ("" = any channel), and its entry process.

    A category with no row starts on the shipped ``general_dispute``; a row for the category and
    the case's channel wins over the category's row for any channel."""

    __tablename__ = "case_type"
    __table_args__ = (
        UniqueConstraint("category", "channel", name="uq_case_type_category_channel"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    category: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), default="")
    process_id: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
