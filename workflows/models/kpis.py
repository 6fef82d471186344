"""KPI targets: dated records, because the plan raises its targets over time (docs/kpis.md)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType, utcnow

# the scope of a target that applies everywhere (otherwise a place code)
ALL_SCOPES = "*"


class KpiTarget(Base):
    """A target for one KPI and scope, valid from one day to another (inclusive; open-ended when
    ``valid_to`` is NULL). Percentages are stored as percent (85.0), times in their KPI's unit."""

    __tablename__ = "kpi_target"
    __table_args__ = (Index("ix_kpi_target_kpi_scope_valid_from", "kpi", "scope", "valid_from"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    kpi: Mapped[str] = mapped_column(String(8))
    scope: Mapped[str] = mapped_column(String(40), default=ALL_SCOPES)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    comparator: Mapped[str] = mapped_column(String(2))    # '>=' or '<='
    value: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64), default="system")
