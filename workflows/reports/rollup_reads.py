"""The cockpit's figures read from the rollups (workflows/models/rollups.py) instead of the
cases: a period becomes whole calendar years (year rows), whole months (month rows) and the days
at its ends (day rows), so a year reads one year of rows whatever the number of cases.

Used when the rollups are built and the scope is the district, a street/township or a
community/village (the rollups' place grain); below that the cockpit counts the cases directly.
Every figure here has the same value as the direct query (tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from workflows.models import Place, path_ids
from workflows.models.rollups import (
    RollupBoard,
    RollupCase,
    RollupNotice,
    RollupOpen,
    RollupOrder,
    RollupPlace,
)
from workflows.reports import kpi_cases as kc
from workflows.rollups.facts import AREA_DEPTH, CASE_MEASURES, ORDER_MEASURES
from workflows.rollups.maintain import is_built

Span = tuple[str, date, date]


def usable(session: Session, scope: kc.Scope) -> bool:
    """Whether this scope's figures can come from the rollups."""
    if scope.place_path is not None and len(path_ids(scope.place_path)) > AREA_DEPTH:
        return False
    return is_built(session)


def _month_end(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def spans(first: date, last: date, *, years: bool = True) -> list[Span]:
    """Day rows for the partial months at the ends, month rows for the whole months between,
    and (with ``years``) year rows for the whole calendar years."""
    out: list[Span] = []
    day = first
    while day <= last:
        year_end = date(day.year, 12, 31)
        if years and (day.month, day.day) == (1, 1) and year_end <= last:
            out.append(("y", day, day))
            day = year_end + timedelta(days=1)
            continue
        end = _month_end(day)
        if day.day == 1 and end <= last:
            out.append(("m", day, day))
        else:
            out.append(("d", day, min(end, last)))
        day = end + timedelta(days=1)
    return out


def _in(model: Any, parts: Sequence[Span]) -> ColumnElement[bool]:
    return or_(*[and_(model.grain == grain, model.day >= a, model.day <= b)
                 for grain, a, b in parts])


def _place(model: Any, path: str | None) -> ColumnElement[bool]:
    return true() if path is None else model.area_path.startswith(path, autoescape=True)


def _unit(model: Any, unit_id: int | None) -> ColumnElement[bool]:
    return true() if unit_id is None else model.unit_id == unit_id


def case_sums(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, float]:
    """Received and closure sums of the period (received by opening day, the rest by the day
    of the final closure)."""
    m = RollupCase
    row = session.execute(select(*[func.coalesce(func.sum(getattr(m, n)), 0)
                                   for n in CASE_MEASURES])
                          .where(_in(m, spans(period.first, period.last)),
                                 _place(m, scope.place_path), _unit(m, scope.unit_id))).one()
    return dict(zip(CASE_MEASURES, row, strict=True))


def closed_by_end(session: Session, period: kc.Period, scope: kc.Scope) -> int:
    """K-09's numerator: cases received in the period and finally closed by its end."""
    parts = spans(period.first, period.last) if _month_end(period.last) == period.last \
        else [("d", period.first, period.last)]
    m = RollupOpen
    return int(session.scalar(select(func.coalesce(func.sum(m.cases), 0)).where(
        _in(m, parts), m.closed <= period.last, _place(m, scope.place_path),
        _unit(m, scope.unit_id))) or 0)


def order_sums(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, float]:
    m = RollupOrder
    row = session.execute(select(*[func.coalesce(func.sum(getattr(m, n)), 0)
                                   for n in ORDER_MEASURES])
                          .where(_in(m, spans(period.first, period.last)),
                                 _place(m, scope.place_path), _unit(m, scope.unit_id))).one()
    return dict(zip(ORDER_MEASURES, row, strict=True))


def case_days(session: Session, period: kc.Period, scope: kc.Scope, *, months: bool
              ) -> list[tuple[date, date, dict[str, int]]]:
    """Per day (or per whole month, with ``months``, and per day at the ends): the received and
    closure sums, for the trend buckets."""
    m = RollupCase
    parts = spans(period.first, period.last, years=False) if months \
        else [("d", period.first, period.last)]
    names = ("received", "closed", "counted", "resolved", "rated", "satisfied")
    out = []
    for grain, day, *sums in session.execute(
            select(m.grain, m.day, *[func.sum(getattr(m, n)) for n in names])
            .where(_in(m, parts), _place(m, scope.place_path),
                   _unit(m, scope.unit_id)).group_by(m.grain, m.day)):
        last = _month_end(day) if grain == "m" else day
        out.append((day, last, dict(zip(names, (int(s or 0) for s in sums), strict=True))))
    return out


def orders_by_unit(session: Session, period: kc.Period, path: str | None) -> list[Any]:
    m = RollupOrder
    return list(session.execute(
        select(m.unit_id, func.sum(m.dispatched), func.sum(m.signed_on_time), func.sum(m.done),
               func.sum(m.done_on_time), func.sum(m.returns))
        .where(_in(m, spans(period.first, period.last)), _place(m, path))
        .group_by(m.unit_id)).all())


def rated_by_unit(session: Session, period: kc.Period, path: str | None) -> list[Any]:
    m = RollupCase
    return [row for row in session.execute(
        select(m.unit_id, func.sum(m.rated), func.sum(m.satisfied))
        .where(_in(m, spans(period.first, period.last)), _place(m, path))
        .group_by(m.unit_id)).all() if row[1]]


def notices_by_unit(session: Session, period: kc.Period, path: str | None) -> list[Any]:
    """(unit id, cases with a notice to the unit issued in the period): each case counts at
    its first notice of the period, the one whose previous notice to the unit lies before."""
    m = RollupNotice
    return [row for row in session.execute(
        select(m.unit_id, func.sum(m.cases))
        .where(_in(m, spans(period.first, period.last)), _place(m, path),
               m.prev < period.first).group_by(m.unit_id)).all() if row[1]]


def board_cells(session: Session, scope: kc.Scope) -> list[Any]:
    """(risk, light rank, ladder level, open cases) of the scope now."""
    m = RollupBoard
    return [row for row in session.execute(
        select(m.risk, m.light, m.level, func.sum(m.cases))
        .where(_place(m, scope.place_path), _unit(m, scope.unit_id))
        .group_by(m.risk, m.light, m.level)).all() if row[3]]


def received_cells(session: Session, period: kc.Period, scope: kc.Scope
                   ) -> list[Any] | None:
    """(place path, category, cases received) for the hotspot table, at a grain fine enough for
    the scope's children; None when the rollups cannot answer (a unit below the area level)."""
    depth = len(path_ids(scope.place_path)) if scope.place_path else 1
    parts = spans(period.first, period.last)
    if depth < AREA_DEPTH:
        m = RollupCase
        rows = session.execute(
            select(m.area_path, m.category, func.sum(m.received))
            .where(_in(m, parts), _place(m, scope.place_path), _unit(m, scope.unit_id),
                   m.area_path != "")
            .group_by(m.area_path, m.category)).all()
    elif scope.unit_id is None:
        p = RollupPlace
        rows = session.execute(
            select(p.place_path, p.category, func.sum(p.received))
            .where(_in(p, parts), p.place_path.startswith(scope.place_path or "/",
                                                          autoescape=True))
            .group_by(p.place_path, p.category)).all()
    else:
        return None
    return [(path, category or None, int(count)) for path, category, count in rows if count]


def top_buildings(session: Session, period: kc.Period, scope: kc.Scope, top: int
                  ) -> list[Any] | None:
    if scope.unit_id is not None:
        return None
    p = RollupPlace
    counts = (select(p.place_id, func.sum(p.received).label("n"))
              .where(_in(p, spans(period.first, period.last)),
                     *([p.place_path.startswith(scope.place_path, autoescape=True)]
                       if scope.place_path else []))
              .group_by(p.place_id).subquery())
    return list(session.execute(
        select(Place.code, Place.name, Place.address, counts.c.n)
        .join(counts, counts.c.place_id == Place.id)
        .where(Place.level == "building", counts.c.n > 0)
        .order_by(counts.c.n.desc(), Place.code).limit(top)).all())
