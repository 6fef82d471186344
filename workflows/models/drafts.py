"""Process drafts: BPMN/DMN files a process owner is still editing; never executed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType


class ProcessDraft(Base):
    """Work in progress: files as the editor saved them, optionally based on a deployed version."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    process_id: Mapped[str | None] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    files: Mapped[dict] = mapped_column(JSONType)
    base_version_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("process_version.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version_id: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version_id}


class DryRunExample(Base):
    """A dry run kept as a regression example of a process: its start data, clock and actions,
    and the path it took when saved (re-run against a new draft to see whether the path changed)."""

    __tablename__ = "dry_run_example"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict] = mapped_column(JSONType)
    actions: Mapped[list] = mapped_column(JSONType)
    outcome: Mapped[dict] = mapped_column(JSONType)  # engine.simulate.outcome_of(result)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
