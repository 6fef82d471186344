"""Which cases stand behind each cockpit figure: one SQL condition per KPI or figure.

The KPI computation (kpis.py) and the case list's drill-down (``kpi=`` on /cases and
/api/v1/cases) both build their queries from these conditions, so a tile's denominator and the
number of cases listed behind it are the same query and cannot disagree.

A period is local calendar days ``first``..``last`` (inclusive) turned into UTC instants
``start``..``end`` (end exclusive). A scope is a place subtree (``place_path``, None for the
whole district) and optionally one unit: case figures then count the cases the unit leads,
work-order figures the unit's own orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, false, func, or_, select, true
from sqlalchemy import case as sql_case
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Float

from workflows.models import Case, CaseStatus, SlaClock, WorkOrder, WorkOrderStatus
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.rollups.facts import (  # noqa: F401 - the sets the rollups count with
    DISSATISFIED,
    GENERAL_LIMIT_HOURS,
    RESOLVED,
    ROUTED,
    SATISFIED,
    URGENT_LIMIT_HOURS,
)


@dataclass(frozen=True)
class Kpi:
    """One indicator: what its value is measured in and what its denominator counts."""

    id: str
    name: str          # Chinese name (pages translate it through web/labels.py)
    unit: str          # percent | hours | working_days | days
    counts: str        # cases | orders | warnings | contacts


KPIS: tuple[Kpi, ...] = (
    Kpi("K-01", "矛盾纠纷化解率", "percent", "cases"),
    Kpi("K-02", "群众满意度", "percent", "cases"),
    Kpi("K-03", "二次投诉率", "percent", "cases"),
    Kpi("K-04", "群众诉求响应时间", "working_days", "contacts"),
    Kpi("K-05", "部门响应时间", "hours", "orders"),
    Kpi("K-06", "紧急事项响应时间", "hours", "orders"),
    Kpi("K-07", "一般事项响应时间", "hours", "orders"),
    Kpi("K-08", "平均办结周期", "days", "cases"),
    Kpi("K-09", "办结率", "percent", "cases"),
    Kpi("K-11", "预警准确率", "percent", "warnings"),
    Kpi("K-25", "按期办结率", "percent", "orders"),
    Kpi("K-26", "按时签收率", "percent", "orders"),
)
KPI_BY_ID = {k.id: k for k in KPIS}
KPI_UNITS = ("percent", "hours", "working_days", "days")
KPI_STATUSES = ("met", "at_risk", "missed", "no_data")
# cockpit figures that are not KPIs but drill down the same way
FIGURES = ("received", "closed", "overdue", "open", "returns", "notices")
DRILLS = tuple(KPI_BY_ID) + FIGURES


@dataclass(frozen=True)
class Period:
    """Local days first..last inclusive, and the UTC instants [start, end) they cover."""

    first: date
    last: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, first: date, last: date, tz: str | ZoneInfo) -> Period:
        zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        start = datetime.combine(first, time(), zone)
        end = datetime.combine(last + timedelta(days=1), time(), zone)
        return cls(first, last, start, end)

    def previous(self) -> Period:
        """The period of the same kind just before: the previous week, month, quarter or year
        when this one is a whole calendar one, else the same number of days before."""
        tz = self.start.tzinfo
        assert isinstance(tz, ZoneInfo)
        first, last = self.first, self.last
        if first.day == 1 and (last + timedelta(days=1)).day == 1:
            months = (last.year - first.year) * 12 + last.month - first.month + 1
            month = first.month - months
            year = first.year + (month - 1) // 12
            start = date(year, (month - 1) % 12 + 1, 1)
            return Period.of(start, first - timedelta(days=1), tz)
        days = (last - first).days + 1
        return Period.of(first - timedelta(days=days), first - timedelta(days=1), tz)


@dataclass(frozen=True)
class Scope:
    """A place subtree (None: the whole district) and optionally one unit within it."""

    place_path: str | None = None
    unit_id: int | None = None


class seconds_between(FunctionElement):  # noqa: N801 - SQL function style
    """``later - earlier`` in seconds, as a float, on PostgreSQL and SQLite."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - "
            f"{compiler.process(earlier, **kw)}))")


@compiles(seconds_between)
def _seconds_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (f"((julianday({compiler.process(later, **kw)}) - "
            f"julianday({compiler.process(earlier, **kw)})) * 86400.0)")


# -- building blocks -----------------------------------------------------------------------------
def counted() -> ColumnElement[bool]:
    """A duplicate (重复件) never counts as a case."""
    return Case.duplicate_of_id.is_(None)


def in_place(path: str | None) -> ColumnElement[bool]:
    return true() if path is None else Case.place_path.startswith(path, autoescape=True)


def case_scope(scope: Scope) -> ColumnElement[bool]:
    """Cases of the scope: in the place subtree, led by the unit when one is given."""
    unit = true() if scope.unit_id is None else Case.lead_department_id == scope.unit_id
    return and_(counted(), in_place(scope.place_path), unit)


def order_scope(scope: Scope) -> ColumnElement[bool]:
    """Work orders of the scope (joined to their case): the unit's own orders when one is given."""
    unit = true() if scope.unit_id is None else WorkOrder.department_id == scope.unit_id
    return and_(counted(), in_place(scope.place_path), unit)


def _between(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def closed_in(period: Period) -> ColumnElement[bool]:
    """Closed in the period: a reopened case has no closed_at until its final closure."""
    return and_(Case.status == CaseStatus.CLOSED, _between(Case.closed_at, period))


def closed_by(end: datetime) -> ColumnElement[bool]:
    """Closed (finally) before ``end``: K-09's numerator."""
    return and_(Case.status == CaseStatus.CLOSED, Case.closed_at < end)


def rated() -> ColumnElement[bool]:
    return Case.satisfaction.in_(SATISFIED + DISSATISFIED)


def resolved() -> ColumnElement[bool]:
    return and_(func.upper(func.coalesce(Case.outcome, "")).in_(RESOLVED),
                func.coalesce(Case.satisfaction, "").not_in(DISSATISFIED))


def not_routed() -> ColumnElement[bool]:
    return func.upper(func.coalesce(Case.outcome, "")).not_in(ROUTED)


def response_hours() -> Any:
    return seconds_between(WorkOrder.accepted_at, WorkOrder.dispatched_at) / 3600.0


def signed_on_time() -> ColumnElement[bool]:
    """Signed off by the T-01 limit: the recorded one, else 2 h (urgent) or 24 h after dispatch."""
    fallback = sql_case((Case.urgency == "urgent", URGENT_LIMIT_HOURS * 3600.0),
                        else_=GENERAL_LIMIT_HOURS * 3600.0)
    limit = func.coalesce(seconds_between(WorkOrderSla.response_due_at, WorkOrder.dispatched_at),
                          fallback)
    return and_(WorkOrder.accepted_at.is_not(None),
                seconds_between(WorkOrder.accepted_at, WorkOrder.dispatched_at) <= limit)


def completed_on_time() -> ColumnElement[bool]:
    return and_(WorkOrder.completed_at.is_not(None),
                or_(WorkOrder.due_at.is_(None), WorkOrder.completed_at <= WorkOrder.due_at))


def order_kpi_filter(kpi: str, period: Period) -> ColumnElement[bool]:
    """The work orders in a work-order KPI's denominator (the order joined to its case and, for
    K-26, outer-joined to its work_order_sla)."""
    dispatched = _between(WorkOrder.dispatched_at, period)
    signed = WorkOrder.accepted_at.is_not(None)
    return {
        "K-05": and_(dispatched, signed),
        "K-06": and_(dispatched, signed, Case.urgency == "urgent"),
        "K-07": and_(dispatched, signed, Case.urgency != "urgent"),
        "K-25": and_(dispatched, WorkOrder.completed_at.is_not(None)),
        "K-26": dispatched,
        "returns": and_(dispatched, or_(WorkOrder.status == WorkOrderStatus.RETURNED,
                                        WorkOrder.return_reason.is_not(None))),
    }[kpi]


def case_kpi_filter(kpi: str, period: Period) -> ColumnElement[bool]:
    """The cases in a case KPI's (or case figure's) denominator, scope aside."""
    return {
        "K-01": and_(closed_in(period), not_routed()),
        "K-02": and_(closed_in(period), rated()),
        "K-03": closed_in(period),
        "K-08": closed_in(period),
        "K-09": _between(Case.opened_at, period),
        "received": _between(Case.opened_at, period),
        "closed": closed_in(period),
        "open": and_(Case.status != CaseStatus.CLOSED, Case.opened_at < period.end),
    }[kpi]


def first_contact_filter(period: Period) -> ColumnElement[bool]:
    """K-04: first-contact clocks (T-02) started in the period and stopped by the contact."""
    return and_(SlaClock.kind == "first_contact", _between(SlaClock.started_at, period),
                SlaClock.stopped_at.is_not(None))


def cases_condition(kpi: str, period: Period, scope: Scope) -> ColumnElement[bool]:
    """A WHERE clause on ``Case`` selecting exactly the cases behind a figure's denominator
    (for work-order figures: the cases of those orders)."""
    if kpi in ("K-01", "K-02", "K-03", "K-08", "K-09", "received", "closed", "open"):
        return and_(case_scope(scope), case_kpi_filter(kpi, period))
    if kpi in ("K-05", "K-06", "K-07", "K-25", "K-26", "returns"):
        orders = (select(WorkOrder.id).where(WorkOrder.case_id == Case.id,
                                             order_kpi_filter(kpi, period), _order_unit(scope))
                  .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
                  .correlate(Case))
        return and_(counted(), in_place(scope.place_path), exists(orders))
    if kpi == "K-04":
        clocks = select(SlaClock.id).where(SlaClock.case_id == Case.id,
                                           first_contact_filter(period)).correlate(Case)
        return and_(case_scope(scope), exists(clocks))
    if kpi == "overdue":
        breached = select(SlaClock.id).where(SlaClock.case_id == Case.id,
                                             _between(SlaClock.breached_at, period)).correlate(Case)
        return and_(case_scope(scope), exists(breached))
    if kpi == "notices":
        notices = select(SupervisionNotice.id).where(
            SupervisionNotice.case_id == Case.id, _between(SupervisionNotice.issued_at, period),
            true() if scope.unit_id is None else SupervisionNotice.department_id == scope.unit_id
        ).correlate(Case)
        return and_(counted(), in_place(scope.place_path), exists(notices))
    return false()   # K-11 counts warnings, not cases


def _order_unit(scope: Scope) -> ColumnElement[bool]:
    return true() if scope.unit_id is None else WorkOrder.department_id == scope.unit_id
