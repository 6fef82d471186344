"""The intake assistant's records: what it suggested at each registration, the clerk's final
choice and the red-flag review; and the models it was trained into."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, JSONType, UTCDateTime
from workflows.models._columns import IdType, utcnow


class ReviewState(StrEnum):
    """A red flag's review by a person (triage or supervision)."""

    PENDING = "pending"
    CONFIRMED = "confirmed"     # the risk is real: handled as urgent
    DISMISSED = "dismissed"     # the words were there, the risk is not


class IntakeSuggestion(Base):
    """One registration's suggestion: no text, only codes, scores and figures."""

    __tablename__ = "intake_suggestion"
    __table_args__ = (
        Index("ix_intake_suggestion_created_at", "created_at"),
        Index("ix_intake_suggestion_review_state_created_at", "review_state", "created_at"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(IdType, ForeignKey("dispute_case.id"), index=True)
    submission_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("submission.id"))
    clerk_id: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    suggested: Mapped[str] = mapped_column(String(64))          # best category
    ranked: Mapped[list] = mapped_column(JSONType, default=list)  # [[code, score], ...] top 3
    final_category: Mapped[str] = mapped_column(String(64))
    accepted: Mapped[bool] = mapped_column(Boolean)             # final == suggested
    in_top3: Mapped[bool] = mapped_column(Boolean)
    shown: Mapped[bool] = mapped_column(Boolean, default=False)  # the clerk asked for it
    flags: Mapped[list] = mapped_column(JSONType, default=list)   # flag codes
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    model_sha: Mapped[str] = mapped_column(String(64))
    review_state: Mapped[str | None] = mapped_column(String(16))  # None: nothing to review
    reviewed_by: Mapped[int | None] = mapped_column(IdType, ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AssistantModel(Base):
    """A trained classifier; the active one serves suggestions (none: the shipped file)."""

    __tablename__ = "assistant_model"
    __table_args__ = (Index("ix_assistant_model_active", "active"),)

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    sha256: Mapped[str] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer)
    closed_cases: Mapped[int] = mapped_column(Integer)
    cv_top1: Mapped[float] = mapped_column(Float)
    cv_top3: Mapped[float] = mapped_column(Float)
    body: Mapped[bytes] = mapped_column(LargeBinary)           # gzipped JSON (model.py)
