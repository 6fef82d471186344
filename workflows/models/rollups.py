"""The cockpit's rollups: counts per day and per month, so a year's figures read a few thousand
rows instead of every case (docs/cockpit.md, "Rollups").

Each case contributes to these rows through its facts (``rollup_case_facts``: what of the case
and its work orders the figures count). A unit of work that changes a case, a work order, its
response limit or its notices queues the case in ``rollup_pending``; a catch-up (before the
cockpit reads, by the scheduler) replaces the queued cases' contributions; ``jiefen cockpit
rebuild`` recomputes every row from the cases and empties the queue. ``grain`` is ``d`` (``day``
is the local day), ``m`` (``day`` is the first of the local month) or ``y`` (``day`` is the first of the year). ``area_path`` is the case's place cut at the
community/village level; ``unit_id`` 0 and ``category`` '' stand for none.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, UTCDateTime
from workflows.models._columns import IdType
from workflows.models.cases import Case
from workflows.models.district import EarlyWarning

# rollup_open.closed for a case not (finally) closed
NOT_CLOSED = date(9999, 12, 31)
# rollup_notice.prev for a case's first notice to a unit
NO_NOTICE = date(1900, 1, 1)


class RollupCase(Base):
    """Cases received on the day (by opened_at) and closed on the day (final closure), with the
    closure's figures (K-01, K-02, K-03, K-08)."""

    __tablename__ = "rollup_case"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    counted: Mapped[int] = mapped_column(Integer, default=0)      # closed, not routed (R4)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    second: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[float] = mapped_column(Float, default=0.0)       # sum of opened->closed days


class RollupOpen(Base):
    """Cases received on the day by the day they were finally closed (K-09: received in the
    period and closed by its end)."""

    __tablename__ = "rollup_open"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    closed: Mapped[date] = mapped_column(Date, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class RollupOrder(Base):
    """Work orders dispatched on the day, per unit (K-05, K-06, K-07, K-25, K-26, returns)."""

    __tablename__ = "rollup_order"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    signed: Mapped[int] = mapped_column(Integer, default=0)
    hours: Mapped[float] = mapped_column(Float, default=0.0)
    urgent_signed: Mapped[int] = mapped_column(Integer, default=0)
    urgent_hours: Mapped[float] = mapped_column(Float, default=0.0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    done_on_time: Mapped[int] = mapped_column(Integer, default=0)
    signed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)


class RollupPlace(Base):
    """Cases received on the day per place (grid, building …) and category: hotspots below the
    community level and the top buildings."""

    __tablename__ = "rollup_place"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    place_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    place_path: Mapped[str] = mapped_column(String(255))
    received: Mapped[int] = mapped_column(Integer, default=0)


# the live board's red-risk list (and its drill-down): the open cases of a risk colour in a
# subtree, without reading the closed ones (about nine in ten at a million cases)
OPEN_RISK_INDEX = Index(
    "ix_dispute_case_open_risk", Case.risk_level, Case.place_path,
    postgresql_ops={"place_path": "text_pattern_ops"},
    postgresql_where=text("status <> 'closed'"), sqlite_where=text("status <> 'closed'"))

# the hotspot warnings of a period on the cockpit (one kind among many raised warnings)
HOTSPOT_WARNING_INDEX = Index("ix_early_warning_kind_raised_at", EarlyWarning.kind,
                              EarlyWarning.raised_at)


class RollupBoard(Base):
    """Open cases now (not closed) by risk colour, worst work-order light and highest ladder
    rung (the cockpit's live board); ``light`` 0 green .. 3 red (green without an order),
    ``level`` -1 without a supervision notice."""

    __tablename__ = "rollup_board"

    area_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    risk: Mapped[str] = mapped_column(String(16), primary_key=True)
    light: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class RollupNotice(Base):
    """Supervision notices issued on the day to a unit, by the day of the same case's previous
    notice to that unit (``prev``; NO_NOTICE for the first): the cases with a notice in a period
    are the notices of the period whose ``prev`` lies before it, so the count stays distinct
    over days."""

    __tablename__ = "rollup_notice"

    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    area_path: Mapped[str] = mapped_column(String(255), primary_key=True)
    unit_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    prev: Mapped[date] = mapped_column(Date, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class RollupFacts(Base):
    """What one case contributes to the rollups now (JSON), replaced when it changes."""

    __tablename__ = "rollup_case_facts"

    case_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    facts: Mapped[str] = mapped_column(Text)


class RollupState(Base):
    """One row: whether the rollups hold every case (built) and when they were last rebuilt."""

    __tablename__ = "rollup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    built: Mapped[int] = mapped_column(Integer, default=0)
    rebuilt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RollupPending(Base):
    """The cases changed since their contribution was last applied (queued at a step's commit,
    claimed by a catch-up); ``noticed``: the case got or lost a supervision notice, so its
    notices are read again (the others' are kept in their facts).

    A case whose apply failed on its own is parked (``attempts`` > 0): batches skip it and it is
    tried alone again from ``retry_at``, or with the others once a step changes it again (the
    queue write clears the parking); ``last_error`` names the exception and the line, never a
    value."""

    __tablename__ = "rollup_pending"

    case_id: Mapped[int] = mapped_column(IdType, primary_key=True)
    noticed: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    parked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)     # the first failure
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))
