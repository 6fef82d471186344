"""The cockpit's KPIs for any period and scope, with the previous period and the target status.

Each figure is a numerator over a denominator taken with the conditions of kpi_cases.py, so the
case list behind a figure (``kpi=`` drill-down) lists exactly its denominator's cases. The work
is a fixed number of aggregate queries per period, whatever the period's length or the scope.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from workflows.models import Case, EarlyWarning, Place, SlaClock, WarningState, WorkOrder
from workflows.models.scheduling import WorkOrderSla
from workflows.reports import kpi_cases as kc
from workflows.reports import rollup_reads
from workflows.reports.targets import TargetView, all_targets, pick

# how far a figure may miss its target and still be "at risk" rather than "missed":
# percentage points for percentages, a share of the target for times
AT_RISK_POINTS = 5.0
AT_RISK_SHARE = 0.10


@dataclass
class Figure:
    """One KPI for one period: value in its unit, what it was computed from, and its status."""

    kpi: kc.Kpi
    numerator: float | None
    denominator: int
    # distinct cases behind the denominator (the drill-down); None for work-order figures,
    # whose denominator counts orders (the drill-down lists the cases of those orders)
    cases: int | None
    value: float | None = None
    previous: float | None = None
    target: TargetView | None = None
    status: str = "no_data"
    extra: dict[str, Any] = field(default_factory=dict)


def _rate(part: float | None, whole: int) -> float | None:
    return round(100.0 * (part or 0) / whole, 1) if whole else None


def _mean(total: float | None, count: int) -> float | None:
    return round((total or 0.0) / count, 1) if count else None


def _sum(condition: ColumnElement[bool], value: Any = 1) -> Any:
    return func.coalesce(func.sum(sql_case((condition, value), else_=0)), 0)


def raw_figures(session: Session, period: kc.Period, scope: kc.Scope,
                is_working_day: Callable[[date], bool]) -> dict[str, Figure]:
    """Numerators and denominators of every KPI for one period (values, no status yet)."""
    if rollup_reads.usable(session, scope):
        out = _rollup_figures(session, period, scope)
    else:
        out = _case_figures(session, period, scope)
        out.update(_order_figures(session, period, scope))
    out["K-04"] = _first_contact(session, period, scope, is_working_day)
    out["K-11"] = _precision(session, period, scope)
    return out


def _rollup_figures(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, Figure]:
    """The case and work-order KPIs from the rollups (the same values as the direct queries)."""
    by = kc.KPI_BY_ID
    c = rollup_reads.case_sums(session, period, scope)
    o = rollup_reads.order_sums(session, period, scope)
    counted, closed, rated = int(c["counted"]), int(c["closed"]), int(c["rated"])
    received = int(c["received"])
    done_by_end = rollup_reads.closed_by_end(session, period, scope)
    out = {
        "K-01": Figure(by["K-01"], c["resolved"], counted, counted,
                       _rate(c["resolved"], counted)),
        "K-02": Figure(by["K-02"], c["satisfied"], rated, rated, _rate(c["satisfied"], rated)),
        "K-03": Figure(by["K-03"], c["second"], closed, closed, _rate(c["second"], closed)),
        "K-08": Figure(by["K-08"], c["days"], closed, closed, _mean(c["days"], closed)),
        "K-09": Figure(by["K-09"], done_by_end, received, received,
                       _rate(done_by_end, received)),
    }
    signed, urgent = int(o["signed"]), int(o["urgent_signed"])
    for kpi, count, total in (("K-05", signed, o["hours"]), ("K-06", urgent, o["urgent_hours"]),
                              ("K-07", signed - urgent, o["hours"] - o["urgent_hours"])):
        out[kpi] = Figure(by[kpi], total if count else None, count, None, _mean(total, count))
    done, sent = int(o["done"]), int(o["dispatched"])
    out["K-25"] = Figure(by["K-25"], o["done_on_time"], done, None, _rate(o["done_on_time"], done))
    out["K-26"] = Figure(by["K-26"], o["signed_on_time"], sent, None,
                         _rate(o["signed_on_time"], sent))
    return out


def _case_figures(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, Figure]:
    by = kc.KPI_BY_ID
    out: dict[str, Figure] = {}
    closed = kc.case_kpi_filter("K-03", period)
    days = kc.seconds_between(Case.closed_at, Case.opened_at) / 86400.0
    c = session.execute(select(
        _sum(kc.not_routed()), _sum(and_(kc.not_routed(), kc.resolved())),
        _sum(kc.rated()), _sum(Case.satisfaction.in_(kc.SATISFIED)),
        func.count(), _sum(Case.second_complaint.is_(True)), func.sum(days),
    ).where(kc.case_scope(scope), closed)).one()
    out["K-01"] = Figure(by["K-01"], c[1], int(c[0]), int(c[0]), _rate(c[1], int(c[0])))
    out["K-02"] = Figure(by["K-02"], c[3], int(c[2]), int(c[2]), _rate(c[3], int(c[2])))
    out["K-03"] = Figure(by["K-03"], c[5], int(c[4]), int(c[4]), _rate(c[5], int(c[4])))
    out["K-08"] = Figure(by["K-08"], c[6], int(c[4]), int(c[4]), _mean(c[6], int(c[4])))
    received = session.execute(select(func.count(), _sum(kc.closed_by(period.end))).where(
        kc.case_scope(scope), kc.case_kpi_filter("K-09", period))).one()
    out["K-09"] = Figure(by["K-09"], received[1], int(received[0]), int(received[0]),
                         _rate(received[1], int(received[0])))
    return out


def _order_figures(session: Session, period: kc.Period, scope: kc.Scope) -> dict[str, Figure]:
    by = kc.KPI_BY_ID
    hours = kc.response_hours()
    conds = {kpi: kc.order_kpi_filter(kpi, period) for kpi in ("K-05", "K-06", "K-07", "K-25")}
    dispatched = kc.order_kpi_filter("K-26", period)
    parts = []
    for kpi in ("K-05", "K-06", "K-07"):
        parts += [_sum(conds[kpi]), _sum(conds[kpi], hours)]
    parts += [_sum(conds["K-25"]), _sum(and_(conds["K-25"], kc.completed_on_time())),
              _sum(dispatched), _sum(and_(dispatched, kc.signed_on_time()))]
    row = [value or 0 for value in session.execute(
        select(*parts).select_from(WorkOrder).join(Case, Case.id == WorkOrder.case_id)
        .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
        .where(kc.order_scope(scope), WorkOrder.dispatched_at >= period.start,
               WorkOrder.dispatched_at < period.end)).one()]
    out = {}
    for index, kpi in enumerate(("K-05", "K-06", "K-07")):
        count, total = int(row[2 * index]), float(row[2 * index + 1])
        out[kpi] = Figure(by[kpi], total if count else None, count, None, _mean(total, count))
    done, on_time, sent, signed = (int(v) for v in row[6:10])
    out["K-25"] = Figure(by["K-25"], on_time, done, None, _rate(on_time, done))
    out["K-26"] = Figure(by["K-26"], signed, sent, None, _rate(signed, sent))
    return out


def _first_contact(session: Session, period: kc.Period, scope: kc.Scope,
                   is_working_day: Callable[[date], bool]) -> Figure:
    """K-04: working days from the start of the first-contact limit (the order's acceptance) to
    the contact; a contact on the same day counts 0, on the next working day 1."""
    tz = period.start.tzinfo
    rows = session.execute(select(SlaClock.started_at, SlaClock.stopped_at)
                           .join(Case, Case.id == SlaClock.case_id)
                           .where(kc.case_scope(scope), kc.first_contact_filter(period))).all()
    if not rows:
        return Figure(kc.KPI_BY_ID["K-04"], None, 0, 0)
    days = [(start.astimezone(tz).date(), stop.astimezone(tz).date()) for start, stop in rows
            if stop is not None]
    first = min(d for d, _ in days)
    last = max(d for _, d in days)
    working = [first + timedelta(n) for n in range((last - first).days + 1)
               if is_working_day(first + timedelta(n))]
    total = sum(max(0, bisect_right(working, stop) - bisect_right(working, start))
                for start, stop in days)
    within = sum(1 for start, stop in days
                 if bisect_right(working, stop) - bisect_right(working, start) <= 2)
    return Figure(kc.KPI_BY_ID["K-04"], total, len(days), len(days), _mean(total, len(days)),
                  extra={"within_limit": _rate(within, len(days))})


def _precision(session: Session, period: kc.Period, scope: kc.Scope) -> Figure:
    """K-11 from the early-warning decisions (warnings count by place, not by unit): the
    formula of workflows/early_warning/precision.py — confirmed ÷ (confirmed + false alarm) over
    the warnings raised in the period, at places of the scope (a warning without a place only
    for the whole district) — reading only the decided warnings (index by state and time: the
    open ones, most of a busy period's, are not in it)."""
    kpi = kc.KPI_BY_ID["K-11"]
    if scope.unit_id is not None:
        return Figure(kpi, None, 0, 0)
    query = (select(EarlyWarning.kind, EarlyWarning.state, func.count(EarlyWarning.id))
             .where(EarlyWarning.state.in_((WarningState.CONFIRMED, WarningState.FALSE_ALARM)),
                    EarlyWarning.raised_at >= period.start, EarlyWarning.raised_at < period.end)
             .group_by(EarlyWarning.kind, EarlyWarning.state))
    if scope.place_path is not None:
        query = query.join(Place, Place.id == EarlyWarning.place_id).where(
            Place.path.startswith(scope.place_path, autoescape=True))
    by_rule: dict[str, dict[str, int]] = {}
    for kind, state, count in session.execute(query):
        rule = by_rule.setdefault(str(kind), {"numerator": 0, "denominator": 0})
        rule["denominator"] += int(count)
        rule["numerator"] += int(count) if state == WarningState.CONFIRMED else 0
    confirmed = sum(r["numerator"] for r in by_rule.values())
    decided = sum(r["denominator"] for r in by_rule.values())
    return Figure(kpi, confirmed, decided, 0, _rate(confirmed, decided),
                  extra={"by_rule": by_rule})


def status(value: float | None, target: TargetView | None, unit: str) -> str:
    """met / at_risk / missed against the target; no_data without a value or a target."""
    if value is None or target is None:
        return "no_data"
    gap = target.value - value if target.comparator == ">=" else value - target.value
    if gap <= 0:
        return "met"
    margin = AT_RISK_POINTS if unit == "percent" else AT_RISK_SHARE * target.value
    return "at_risk" if gap <= margin else "missed"


def figures(session: Session, period: kc.Period, scope: kc.Scope, *,
            is_working_day: Callable[[date], bool],
            scope_codes: tuple[str, ...] = ()) -> list[Figure]:
    """Every KPI of the cockpit for the period, with the previous period's value and the status
    against the target valid on the period's last day."""
    now = raw_figures(session, period, scope, is_working_day)
    before = raw_figures(session, period.previous(), scope, is_working_day)
    targets = all_targets(session)
    out = []
    for kpi in kc.KPIS:
        figure = now[kpi.id]
        figure.previous = before[kpi.id].value
        figure.target = pick(targets, kpi.id, period.last, scope_codes)
        figure.status = status(figure.value, figure.target, kpi.unit)
        out.append(figure)
    return out


