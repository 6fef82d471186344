"""The leaders' cockpit (驾驶舱): who sees which scope, and every figure behind the page.

Scope: leaders and supervisors see the place subtree of their unit (the whole district when
the unit has no place or sits at the district); the head of a unit at a place that is not a
territorial one (综治中心, 街道办, 乡镇政府, 社区 — e.g. a bureau or a mediation committee) sees
that unit's own figures. Within it a ``place`` code
narrows the view to a sub-place. Every figure is an aggregate; the case list behind it (the
drill-down) is the same condition from kpi_cases.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from workflows.access.policy import Denied, denials_audited, visible_cases
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.models import (
    CATEGORY_LABELS,
    Case,
    CaseStatus,
    Department,
    EarlyWarning,
    OpenTask,
    Place,
    RoleCode,
    SlaClock,
    WorkOrder,
    path_ids,
)
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.reports import kpi_cases as kc
from workflows.reports import kpis, rollup_reads
from workflows.rollups.backlog import not_counted
from workflows.rollups.catch_up import before_reading

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

COCKPIT_ROLES = (RoleCode.LEADER, RoleCode.SUPERVISOR)
# units whose head sees a territory (a place subtree) rather than the unit's own work
TERRITORIAL_KINDS = ("ZZ", "JD", "XZ", "SQ")
MAX_DAYS = 1100
LIGHTS = ("green", "yellow", "orange", "red")
RISKS = ("red", "orange", "yellow", "blue", "green")
LEVELS = (0, 1, 2, 3)
TOP = 10


@dataclass(frozen=True)
class CockpitScope:
    """The place (None: the district) and unit the cockpit shows, and what the actor may pick."""

    scope: kc.Scope
    place_code: str | None
    place_name: str | None
    unit_code: str | None
    unit_name: str | None
    place_codes: tuple[str, ...]     # the place and its ancestors, nearest first (targets)
    root_path: str | None            # the actor's own subtree


def require_cockpit(actor: Actor) -> None:
    if not actor.has(*COCKPIT_ROLES):
        raise Denied(ErrorCode.COCKPIT_ROLE, "cockpit.role", object_type="page",
                     object_id="cockpit")


def check_period(first: date | None, last: date | None) -> None:
    errors = {}
    if first is None:
        errors["from"] = FieldError(FieldCode.NOT_DATE)
    if last is None:
        errors["to"] = FieldError(FieldCode.NOT_DATE)
    if first and last and last < first:
        errors["to"] = FieldError(ErrorCode.DATES_REVERSED)
    elif first and last and (last - first).days >= MAX_DAYS:
        errors["to"] = FieldError(ErrorCode.PERIOD_TOO_LONG, {"days": MAX_DAYS})
    if errors:
        raise InvalidInput(errors)


def cockpit_scope(session: Session, actor: Actor, place_code: str | None = None,
                  unit_code: str | None = None) -> CockpitScope:
    """The scope for this actor: Denied without a cockpit role or for a place outside their
    subtree; InvalidInput for an unknown place or unit code."""
    require_cockpit(actor)
    own = session.execute(select(Department.id, Department.code, Department.name,
                                 Department.kind, Department.place_id)
                          .where(Department.id == actor.department_id)).one_or_none()
    root = actor.unit_path
    unit_id = unit_name = None
    if own is not None and own.place_id is not None and own.kind not in TERRITORIAL_KINDS:
        unit_id, unit_code, unit_name = own.id, own.code, own.name    # a unit's head: locked
    elif unit_code:
        found = session.execute(select(Department.id, Department.name)
                                .where(Department.code == unit_code)).one_or_none()
        if found is None:
            raise InvalidInput({"unit": FieldError(ErrorCode.UNKNOWN_UNIT, {"code": unit_code})})
        unit_id, unit_name = found
    place = None
    if place_code:
        place = session.scalars(select(Place).where(Place.code == place_code)).one_or_none()
        if place is None:
            raise InvalidInput({"place": FieldError(ErrorCode.UNKNOWN_PLACE,
                                                    {"code": place_code})})
        if root is not None and not place.path.startswith(root):
            raise Denied(ErrorCode.PLACE_SCOPE, "cockpit.place", object_type="place",
                         object_id=place_code)
    path = place.path if place is not None else root
    codes: tuple[str, ...] = ()
    name = None
    if path:
        rows = dict(session.execute(select(Place.id, Place.code).where(
            Place.id.in_(path_ids(path)))).all())
        codes = tuple(rows[i] for i in reversed(path_ids(path)) if i in rows)
        name = session.scalar(select(Place.name).where(Place.path == path))
    return CockpitScope(kc.Scope(path, unit_id), codes[0] if codes else None, name,
                        unit_code if unit_id is not None else None, unit_name, codes, root)


# -- trends ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bucket:
    first: date
    last: date


def buckets(first: date, last: date) -> tuple[str, list[Bucket]]:
    """Weeks (Monday to Sunday, cut at the period's ends) for up to 92 days, else months."""
    out = []
    if (last - first).days < 92:
        day = first
        while day <= last:
            end = min(last, day + timedelta(days=6 - day.weekday()))
            out.append(Bucket(day, end))
            day = end + timedelta(days=1)
        return "week", out
    day = first
    while day <= last:
        following = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        end = min(last, following - timedelta(days=1))
        out.append(Bucket(day, end))
        day = end + timedelta(days=1)
    return "month", out


def trends(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, Any]:
    """Received, closed and overdue cases per week or month, and satisfaction and resolution
    rate per week or month: three grouped queries whatever the number of buckets."""
    size, parts = buckets(period.first, period.last)
    tz = period.start.tzinfo
    spans = [kc.Period.of(b.first, b.last, tz) for b in parts]  # type: ignore[arg-type]

    def bucket(column: Any) -> Any:
        """The index of the bucket a moment of the period falls in (one CASE per row)."""
        return sql_case(*[(column < span.end, index) for index, span in enumerate(spans)],
                        else_=len(spans) - 1)

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)

    received: dict[int, int] = {}
    closed: dict[int, Any] = {}
    if rollup_reads.usable(session, scope):
        for first, _last, sums in rollup_reads.case_days(session, period, scope,
                                                            months=size == "month"):
            index = next(i for i, b in enumerate(parts) if b.first <= first <= b.last)
            received[index] = received.get(index, 0) + sums["received"]
            have = closed.get(index, (0, 0, 0, 0, 0))
            closed[index] = tuple(a + sums[n] for a, n in zip(
                have, ("closed", "counted", "resolved", "rated", "satisfied"), strict=True))
    else:
        opened = bucket(Case.opened_at)
        received = dict(session.execute(select(opened, func.count()).where(
            kc.case_scope(scope), Case.opened_at >= period.start, Case.opened_at < period.end)
            .group_by(opened)).all())
        closed_at = bucket(Case.closed_at)
        closed = {row[0]: row[1:] for row in session.execute(
            select(closed_at, func.count(), total(kc.not_routed()),
                   total(and_(kc.not_routed(), kc.resolved())), total(kc.rated()),
                   total(Case.satisfaction.in_(kc.SATISFIED)))
            .where(kc.case_scope(scope), kc.closed_in(period)).group_by(closed_at))}
    breached = bucket(SlaClock.breached_at)
    overdue: dict[int, int] = dict(session.execute(
        select(breached, func.count(func.distinct(Case.id)))
        .select_from(SlaClock).join(Case, Case.id == SlaClock.case_id)
        .where(kc.case_scope(scope), SlaClock.breached_at >= period.start,
               SlaClock.breached_at < period.end).group_by(breached)).all())
    rows = []
    for index, part in enumerate(parts):
        c = closed.get(index, (0, 0, 0, 0, 0))
        rows.append({"first": part.first, "last": part.last,
                     "received": int(received.get(index, 0)), "closed": int(c[0]),
                     "overdue": int(overdue.get(index, 0)),
                     "resolution": _rate(c[2], c[1]), "satisfaction": _rate(c[4], c[3])})
    return {"size": size, "rows": rows}


def _rate(part: Any, whole: Any) -> float | None:
    return round(100.0 * int(part) / int(whole), 1) if whole else None


# -- ranking of units -----------------------------------------------------------------------------
RANKING_COLUMNS = ("sign_rate", "done_rate", "satisfaction", "returns", "notices")


def ranking(session: Session, period: kc.Period, scope: kc.Scope) -> list[dict[str, Any]]:
    """Per unit in the scope: on-time sign-off (K-26), on-time completion (K-25), satisfaction
    of the cases it leads (K-02), returns (退单) and supervision notices received."""
    dispatched = kc.order_kpi_filter("K-26", period)
    done = kc.order_kpi_filter("K-25", period)
    returns = kc.order_kpi_filter("returns", period)

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(sql_case((condition, 1), else_=0)), 0)

    if rollup_reads.usable(session, scope):
        orders = rollup_reads.orders_by_unit(session, period, scope.place_path)
        rated = rollup_reads.rated_by_unit(session, period, scope.place_path)
        notices = rollup_reads.notices_by_unit(session, period, scope.place_path)
    else:
        orders = list(session.execute(
            select(WorkOrder.department_id, func.count(), total(kc.signed_on_time()),
                   total(done), total(and_(done, kc.completed_on_time())), total(returns))
            .select_from(WorkOrder).join(Case, Case.id == WorkOrder.case_id)
            .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
            .where(kc.order_scope(kc.Scope(scope.place_path)), dispatched)
            .group_by(WorkOrder.department_id)).all())
        rated = list(session.execute(
            select(Case.lead_department_id, func.count(),
                   total(Case.satisfaction.in_(kc.SATISFIED)))
            .where(kc.case_scope(kc.Scope(scope.place_path)),
                   kc.case_kpi_filter("K-02", period))
            .group_by(Case.lead_department_id)).all())
        notices = list(session.execute(
            select(SupervisionNotice.department_id, func.count(func.distinct(Case.id)))
            .join(Case, Case.id == SupervisionNotice.case_id)
            .where(kc.counted(), kc.in_place(scope.place_path),
                   SupervisionNotice.issued_at >= period.start,
                   SupervisionNotice.issued_at < period.end)
            .group_by(SupervisionNotice.department_id)).all())
    units: dict[int, dict[str, Any]] = {}

    def unit(ident: int) -> dict[str, Any]:
        return units.setdefault(ident, {"unit_id": ident, "dispatched": 0, "sign_rate": None,
                                        "done": 0, "done_rate": None, "rated": 0,
                                        "satisfaction": None, "returns": 0, "notices": 0})
    for ident, count, signed, completed, on_time, returned in orders:
        row = unit(ident)
        row.update(dispatched=int(count), sign_rate=_rate(signed, count), done=int(completed),
                   done_rate=_rate(on_time, completed), returns=int(returned))
    for ident, count, satisfied in rated:
        if ident is not None:
            unit(ident).update(rated=int(count), satisfaction=_rate(satisfied, count))
    for ident, count in notices:
        if ident is not None:
            unit(ident)["notices"] = int(count)
    if scope.unit_id is not None:
        units = {k: v for k, v in units.items() if k == scope.unit_id}
    names = {row.id: row for row in session.execute(select(
        Department.id, Department.code, Department.name).where(Department.id.in_(list(units))))}
    out = []
    for ident, row in units.items():
        dept = names.get(ident)
        if dept is not None:
            out.append({**row, "code": dept.code, "name": dept.name})
    return out


def sort_ranking(rows: list[dict[str, Any]], key: str, descending: bool) -> list[dict[str, Any]]:
    """Rows by one column; units without a figure last whatever the direction."""
    key = key if key in RANKING_COLUMNS else "sign_rate"
    known = [r for r in rows if r[key] is not None]
    known.sort(key=lambda r: (r[key], r["code"]), reverse=descending)
    return known + sorted((r for r in rows if r[key] is None), key=lambda r: r["code"])


# -- live board -----------------------------------------------------------------------------------
def worst_light_rank() -> Any:
    """The worst timeliness light among a case's work orders (0 green .. 3 red; 0 without)."""
    rank = sql_case(*[(WorkOrder.light == light, index) for index, light in enumerate(LIGHTS)],
                    else_=0)
    return func.coalesce(select(func.max(rank)).where(WorkOrder.case_id == Case.id)
                         .correlate(Case).scalar_subquery(), 0)


def ladder_level() -> Any:
    """The highest rung of the escalation ladder a case reached (-1: none)."""
    return func.coalesce(select(func.max(SupervisionNotice.level))
                         .where(SupervisionNotice.case_id == Case.id)
                         .correlate(Case).scalar_subquery(), -1)


def open_now() -> ColumnElement[bool]:
    return Case.status != CaseStatus.CLOSED


def board(session: Session, actor: Actor, scope: kc.Scope) -> dict[str, Any]:
    """Open cases now: by worst light and risk colour, by ladder level, and the red-risk cases."""
    grid: dict[tuple[str | None, str], int] = {}
    levels = dict.fromkeys(LEVELS, 0)
    cells: list[Any]
    if rollup_reads.usable(session, scope):
        cells = [(risk or None, rank, rung, count)
                 for risk, rank, rung, count in rollup_reads.board_cells(session, scope)]
    else:
        light, level = worst_light_rank(), ladder_level()
        cells = list(session.execute(    # one pass over the open cases
            select(Case.risk_level, light, level, func.count())
            .where(kc.case_scope(scope), open_now()).group_by(Case.risk_level, light, level)))
    for risk, rank, rung, count in cells:
        key = (risk, LIGHTS[int(rank)])
        grid[key] = grid.get(key, 0) + int(count)
        if int(rung) in levels:
            levels[int(rung)] += int(count)
    red = red_cases(session, actor, scope)
    return {"grid": grid, "open": sum(grid.values()), "levels": levels,
            "red": [{"case_no": r[0] if r[4] else None, "category": r[1], "lead_unit": r[2],
                     "deadline": r[3], "visible": bool(r[4])} for r in red],
            "red_total": sum(v for (risk, _l), v in grid.items() if risk == "red")}


def red_cases(session: Session, actor: Actor, scope: kc.Scope, limit: int = 20) -> list[Any]:
    """The open red-risk cases with the earliest deadline among their open tasks first (those
    without one last), by id: (case no, category, lead unit, deadline, visible).

    Two queries: the list, then whether the actor may open each of its (at most twenty) cases —
    asked of the whole list at once, the access rule's subqueries would read every notice and
    leaders' task of the district."""
    deadline = select(func.min(OpenTask.due_at)).where(OpenTask.case_id == Case.id) \
        .correlate(Case).scalar_subquery()
    rows = session.execute(
        select(Case.id, Case.case_no, Case.category, Department.name, deadline)
        .outerjoin(Department, Department.id == Case.lead_department_id)
        .where(kc.case_scope(scope), open_now(), Case.risk_level == "red")
        .order_by(deadline.asc().nulls_last(), Case.id).limit(limit)).all()
    ids = [r[0] for r in rows]
    visible = set(session.scalars(select(Case.id).where(Case.id.in_(ids), visible_cases(actor))))
    return [(*r[1:], r[0] in visible) for r in rows]


def board_condition(light: str | None, risk: str | None, level: int | None) -> ColumnElement[bool]:
    """The open cases of one board cell (the drill-down's extra filter)."""
    parts = [open_now()]
    if light in LIGHTS:
        parts.append(worst_light_rank() == LIGHTS.index(light))
    if risk in RISKS:
        parts.append(Case.risk_level == risk)
    if level is not None:
        parts.append(ladder_level() == level)
    return and_(*parts)


# -- hotspots -------------------------------------------------------------------------------------
def hotspots(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, Any]:
    """Cases received in the period by the next place level down and category, the top
    buildings, and the hotspot warnings raised in the period."""
    path = scope.place_path or session.scalar(   # the whole district: from the district down
        select(Place.path).where(Place.level == "district").order_by(Place.id).limit(1))
    parent_id = path_ids(path)[-1] if path else None
    depth = len(path_ids(path))
    received = kc.case_kpi_filter("received", period)
    children = {row.id: row for row in session.execute(
        select(Place.id, Place.code, Place.name, Place.level).where(Place.parent_id == parent_id))}
    # by the cases' own places (one grouped pass); each path names its child of the scope place
    rolled = rollup_reads.usable(session, scope)
    cells = rollup_reads.received_cells(session, period, scope) if rolled else None
    if cells is None:
        cells = list(session.execute(select(Case.place_path, Case.category, func.count())
                                .where(kc.case_scope(scope), received,
                                       Case.place_path.is_not(None))
                                .group_by(Case.place_path, Case.category)).all())
    places: dict[str, dict[str, Any]] = {}
    categories: set[str] = set()
    for path, category, count in cells:
        ids = path_ids(path)
        child = children.get(ids[depth]) if len(ids) > depth else None
        if child is None:
            continue
        row = places.setdefault(child.code, {"code": child.code, "name": child.name,
                                             "level": child.level, "total": 0, "cells": {}})
        key = category or "other"
        row["cells"][key] = row["cells"].get(key, 0) + int(count)
        row["total"] += int(count)
        categories.add(key)
    top = rollup_reads.top_buildings(session, period, scope, TOP) if rolled else None
    if top is None:
        top = list(session.execute(
            select(Place.code, Place.name, Place.address, func.count())
            .join(Case, Case.place_id == Place.id)
            .where(Place.level == "building", kc.case_scope(scope), received)
            .group_by(Place.code, Place.name, Place.address)
            .order_by(func.count().desc(), Place.code).limit(TOP)).all())
    warnings = session.execute(
        select(EarlyWarning.id, EarlyWarning.kind, EarlyWarning.category, EarlyWarning.count,
               EarlyWarning.state, EarlyWarning.raised_at, Place.code, Place.name)
        .join(Place, Place.id == EarlyWarning.place_id)
        .where(EarlyWarning.kind == "hotspot",
               EarlyWarning.raised_at >= period.start, EarlyWarning.raised_at < period.end,
               *([Place.path.startswith(scope.place_path)] if scope.place_path else []))
        .order_by(EarlyWarning.raised_at.desc()).limit(20)).all()
    order = [c for c in CATEGORY_LABELS if c in categories]
    return {"places": sorted(places.values(), key=lambda r: (-r["total"], r["code"])),
            "categories": order + sorted(categories - set(order)),
            "buildings": [{"code": r[0], "name": r[1], "address": r[2], "count": int(r[3])}
                          for r in top],
            "warnings": [dict(r._mapping) for r in warnings]}


# -- the drill-down ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Drill:
    """What a drill-down link carries: a figure, a period, a scope and a board or hotspot cell."""

    kpi: str
    first: date | None
    last: date | None
    place: str | None = None
    unit: str | None = None
    category: str | None = None
    light: str | None = None
    risk: str | None = None
    level: int | None = None


def drill_condition(session: Session, actor: Actor, drill: Drill,
                    tz: str) -> ColumnElement[bool]:
    """The cases behind a figure, in the actor's cockpit scope (checked first)."""
    require_cockpit(actor)
    if drill.kpi not in kc.DRILLS:
        raise InvalidInput({"kpi": FieldError(ErrorCode.UNKNOWN_KPI, {"kpi": drill.kpi})})
    where = cockpit_scope(session, actor, drill.place, drill.unit)
    check_period(drill.first, drill.last)
    assert drill.first is not None and drill.last is not None
    period = kc.Period.of(drill.first, drill.last, tz)
    condition = kc.cases_condition(drill.kpi, period, where.scope)
    extra = []
    if drill.category:
        extra.append(Case.category == drill.category)
    if drill.kpi == "open":
        extra.append(board_condition(drill.light, drill.risk, drill.level))
    return and_(condition, *extra)


# -- entry points (pages, API) --------------------------------------------------------------------
@dataclass
class Overview:
    """The cockpit's KPIs for one period and scope; ``not_counted``: queued cases whose latest
    change the figures leave out (parked after a failed apply, or beyond a reader's catch-up)."""

    where: CockpitScope
    period: kc.Period
    figures: list[Any]
    not_counted: int = 0


def checked(services: Services, actor: Actor, first: date | None, last: date | None,
            place_code: str | None, unit_code: str | None) -> tuple[CockpitScope, kc.Period]:
    """The scope and period, checked in a read of their own before anything is written (a
    denial audited): no catch-up runs for a request that is refused."""
    with denials_audited(services, actor, object_type="cockpit"), \
            services.session_factory() as session:
        where = cockpit_scope(session, actor, place_code, unit_code)
    check_period(first, last)
    assert first is not None and last is not None
    return where, kc.Period.of(first, last, services.settings.timezone)


def overview(services: Services, actor: Actor, first: date | None, last: date | None,
             place_code: str | None = None, unit_code: str | None = None) -> Overview:
    """Every KPI of the period with the previous period and the status (scope checked first;
    a denial is audited)."""
    where, period = checked(services, actor, first, last, place_code, unit_code)
    left = before_reading(services)   # after the checks: the figures include every change
    with services.session_factory() as session:   # a read: on SQLite no wait for a writer
        return _overview(services, session, where, period, left)


def _overview(services: Services, session: Session, where: CockpitScope, period: kc.Period,
              left: bool) -> Overview:
    services.calendar.warm(session)
    figures = kpis.figures(session, period, where.scope,
                           is_working_day=services.calendar.calendar.is_working_day,
                           scope_codes=where.place_codes)
    return Overview(where, period, figures, not_counted(session, everything=left))


@dataclass
class Page:
    """Everything on /cockpit."""

    overview: Overview
    trends: dict[str, Any]
    ranking: list[dict[str, Any]]
    board: dict[str, Any]
    hotspots: dict[str, Any]


def page(services: Services, actor: Actor, first: date | None, last: date | None,
         place_code: str | None = None, unit_code: str | None = None) -> Page:
    """The whole cockpit in a fixed number of queries, in one session (scope checked first; a
    denial is audited)."""
    where, period = checked(services, actor, first, last, place_code, unit_code)
    left = before_reading(services)   # after the checks: the figures include every change
    with services.session_factory() as s:
        top = _overview(services, s, where, period, left)
        scope = where.scope
        return Page(top, trends(s, period, scope), ranking(s, period, scope),
                    board(s, actor, scope), hotspots(s, period, scope))


def drill_scope(services: Services, actor: Actor, drill_of: Drill) -> ColumnElement[bool]:
    """The condition selecting the cases behind a figure in the actor's cockpit scope, for the
    case list (scope checked first; a denial is audited)."""
    uow = services.new_uow()
    with denials_audited(services, actor, object_type="case_list"), uow:
        return drill_condition(uow.session, actor, drill_of, services.settings.timezone)


def ranking_page(services: Services, actor: Actor, first: date | None, last: date | None,
                 place_code: str | None = None, unit_code: str | None = None
                 ) -> tuple[Overview, list[dict[str, Any]]]:
    """The ranking of units alone (the XLSX download); scope checked first."""
    where, period = checked(services, actor, first, last, place_code, unit_code)
    left = before_reading(services)   # after the checks: the figures include every change
    with services.session_factory() as session:
        return (Overview(where, period, [], not_counted(session, everything=left)),
                ranking(session, period, where.scope))
