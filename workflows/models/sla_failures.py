"""Per-case failures of the SLA sweep: back-off and incident state (created by 0007_sla_failures).

A case whose check raises is skipped until ``retry_at`` (1, 5, 25 minutes, as timer firings); after
JIEFEN_TIMER_MAX_ATTEMPTS failures ``retry_at`` is NULL: an incident, checked again only after a
supervisor's retry (``workflows.casework.incidents.retry_sla_check``). A successful check deletes the row.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType


class SlaCheckFailure(Base):
    """The SLA sweep failed on this case ``attempts`` times in a row."""

    __tablename__ = "sla_check_failure"

    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # NULL: incident
