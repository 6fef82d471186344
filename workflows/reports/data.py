"""What the periodic reports contain: 周调度、月通报、季评估 and their KPIs (docs/reports.md).

Every builder returns (columns, rows, summary) with no personal data: case codes, categories,
departments, dates and counts only. Duplicates (重复件) never count as cases.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from statistics import mean

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.core.dates import elapsed_days
from workflows.models import Case, CaseStatus, Department, SlaClock, WorkOrder
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.reports.targets import all_targets, pick

RESOLVED = {"R1", "R2"}
ROUTED = {"R4"}
SATISFIED = {"satisfied", "basically_satisfied", "满意", "基本满意"}
DISSATISFIED = {"dissatisfied", "不满意"}
LIGHT_RANK = {"green": 0, "yellow": 1, "orange": 2, "red": 3}
DAY = timedelta(hours=24)
# T-01 when no light was ever computed for an order (natural hours: no calendar needed)
RESPONSE_LIMIT = {"urgent": timedelta(hours=2), "general": DAY}


KPI_ZH = {"K-01": "矛盾纠纷化解率", "K-02": "群众满意度", "K-03": "二次投诉率",
          "K-26": "按时签收率", "K-25": "按期办结率", "K-05": "平均响应时间（小时）",
          "K-08": "平均办结周期（天）"}


def _departments(session: Session) -> dict[int | None, str]:
    return dict(session.execute(select(Department.id, Department.name)).all())


def _local_day(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).date().isoformat() if moment else ""


# -- weekly review list (周调度) -------------------------------------------------------------------
WEEKLY_COLUMNS = [["case_no", "案件编号"], ["category", "类型"], ["tier", "层级"],
                  ["risk_level", "风险等级"], ["status", "状态"], ["department", "牵头部门"],
                  ["opened", "受理日期"], ["days_open", "已办天数"], ["overdue", "是否超期"],
                  ["light", "时效灯"], ["level", "督办级别"], ["reason", "列入原因"]]


def weekly_review(session: Session, *, end: datetime, tz: tzinfo) -> tuple[list, list, dict]:
    """Open cases that are open more than 7 days or overdue at the end of the week."""
    departments = _departments(session)
    cases = session.scalars(select(Case).where(
        Case.status != CaseStatus.CLOSED, Case.duplicate_of_id.is_(None),
        Case.opened_at < end).order_by(Case.opened_at)).all()
    ids = [c.id for c in cases]
    lights = _worst_lights(session, ids)
    levels = dict(session.execute(select(SupervisionNotice.case_id, func.max(
        SupervisionNotice.level)).where(SupervisionNotice.case_id.in_(ids))
        .group_by(SupervisionNotice.case_id)).all()) if ids else {}
    breached = set(session.scalars(select(SlaClock.case_id).where(
        SlaClock.case_id.in_(ids), SlaClock.breached_at.is_not(None),
        SlaClock.stopped_at.is_(None)))) if ids else set()
    rows = []
    for case in cases:
        days = elapsed_days(case.opened_at, end)
        overdue = LIGHT_RANK.get(lights.get(case.id, "green"), 0) >= 2 or case.id in breached
        if days <= 7 and not overdue:
            continue
        reason = "、".join(r for r, on in (("超过7天未办结", days > 7), ("超期", overdue)) if on)
        rows.append({"case_no": case.case_no, "category": case.category or "",
                     "tier": case.tier or "", "risk_level": case.risk_level,
                     "status": case.status, "department": departments.get(
                         case.lead_department_id, ""), "opened": _local_day(case.opened_at, tz),
                     "days_open": days, "overdue": "是" if overdue else "否",
                     "light": lights.get(case.id, "green"), "level": levels.get(case.id, ""),
                     "reason": reason})
    summary = {"listed": len(rows), "overdue": sum(r["overdue"] == "是" for r in rows),
               "open_cases": len(cases)}
    return WEEKLY_COLUMNS, rows, summary


def _worst_lights(session: Session, case_ids: list[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    out: dict[int, str] = {}
    for case_id, light in session.execute(select(WorkOrder.case_id, WorkOrder.light).where(
            WorkOrder.case_id.in_(case_ids))):
        if LIGHT_RANK.get(light, 0) > LIGHT_RANK.get(out.get(case_id, "green"), 0):
            out[case_id] = light
    return out


# -- monthly bulletin (月通报) ---------------------------------------------------------------------
MONTHLY_COLUMNS = [["department", "部门"], ["case_no", "案件编号"], ["role", "牵头/协办"],
                   ["light", "时效灯"], ["breaches", "超时次数"], ["level", "最高督办级别"],
                   ["dispatched", "派单日期"], ["due", "办理期限"], ["completed", "办结日期"],
                   ["status", "状态"]]


def monthly_bulletin(session: Session, *, start: datetime, end: datetime,
                     tz: tzinfo) -> tuple[list, list, dict]:
    """Overdue and escalated work orders of the month, by department."""
    departments = _departments(session)
    escalated = dict(session.execute(select(SupervisionNotice.work_order_id, func.max(
        SupervisionNotice.level)).where(SupervisionNotice.issued_at >= start,
                                        SupervisionNotice.issued_at < end,
                                        SupervisionNotice.level >= 1,
                                        SupervisionNotice.work_order_id.is_not(None))
        .group_by(SupervisionNotice.work_order_id)).all())
    orders = session.execute(select(WorkOrder, Case.case_no).join(Case, Case.id ==
                                                                    WorkOrder.case_id)
                             .where(WorkOrder.dispatched_at < end)
                             .order_by(WorkOrder.department_id, WorkOrder.id)).all()
    rows: list[dict] = []
    per_dept: defaultdict[str, dict[str, int]] = defaultdict(
        lambda: {"overdue": 0, "escalated": 0, "upgraded": 0})
    for order, case_no in orders:
        level = escalated.get(order.id)
        late = order.completed_at and order.due_at and order.completed_at > order.due_at
        overdue = LIGHT_RANK.get(order.light, 0) >= 2 or bool(late)
        if level is None and not (overdue and (order.completed_at is None
                                               or order.completed_at >= start)):
            continue
        name = departments.get(order.department_id, str(order.department_id))
        stats = per_dept[name]
        stats["overdue"] += int(overdue)
        stats["escalated"] += int(level is not None)
        stats["upgraded"] += int((level or 0) >= 2)
        rows.append({"department": name, "case_no": case_no,
                     "role": "牵头" if order.role == "lead" else "协办", "light": order.light,
                     "breaches": order.breach_count, "level": level or "",
                     "dispatched": _local_day(order.dispatched_at, tz),
                     "due": _local_day(order.due_at, tz),
                     "completed": _local_day(order.completed_at, tz), "status": order.status})
    return MONTHLY_COLUMNS, rows, {"departments": dict(per_dept), "orders": len(rows)}


# -- quarterly evaluation (季评估) -----------------------------------------------------------------
QUARTERLY_COLUMNS = [["scope", "维度"], ["name", "名称"], ["closed", "办结数"],
                     ["K-01", "化解率"], ["K-02", "满意度"], ["K-03", "二次投诉率"],
                     ["K-26", "按时签收率"], ["K-25", "按期办结率"],
                     ["K-05", "平均响应（小时）"], ["K-08", "平均办结周期（天）"]]


def quarterly_evaluation(session: Session, *, start: datetime, end: datetime,
                         last_day: date) -> tuple[list, list, dict]:
    """KPIs by department and by type against the targets valid on the period's last day."""
    departments = _departments(session)
    closed = session.scalars(select(Case).where(
        Case.closed_at >= start, Case.closed_at < end, Case.duplicate_of_id.is_(None))).all()
    orders = [(order, due or order.dispatched_at + RESPONSE_LIMIT.get(urgency, DAY), category)
              for order, due, category, urgency in session.execute(
                  select(WorkOrder, WorkOrderSla.response_due_at, Case.category, Case.urgency)
                  .join(Case, Case.id == WorkOrder.case_id)
                  .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
                  .where(WorkOrder.dispatched_at >= start, WorkOrder.dispatched_at < end))]
    rows = [{"scope": "全区", "name": "合计", **_kpis(closed, orders)}]
    for dept_id, name in sorted(departments.items()):
        mine = [c for c in closed if c.lead_department_id == dept_id]
        their = [o for o in orders if o[0].department_id == dept_id]
        if mine or their:
            rows.append({"scope": "部门", "name": name, **_kpis(mine, their)})
    for category in sorted({c.category or "未分类" for c in closed}):
        rows.append({"scope": "类型", "name": category,
                     **_kpis([c for c in closed if (c.category or "未分类") == category],
                             [o for o in orders if (o[2] or "未分类") == category])})
    return QUARTERLY_COLUMNS, rows, {"targets": _against_targets(session, rows[0], last_day)}


def _kpis(cases: Sequence, orders: list) -> dict:
    counted = [c for c in cases if (c.outcome or "").upper() not in ROUTED]
    resolved = [c for c in counted if (c.outcome or "").upper() in RESOLVED
                and c.satisfaction not in DISSATISFIED]
    rated = [c for c in cases if c.satisfaction in SATISFIED | DISSATISFIED]
    signed = [o for o, _, _ in orders if o.accepted_at is not None]
    on_time_sign = [o for o, due, _ in orders if o.accepted_at and due and o.accepted_at <= due]
    done = [o for o, _, _ in orders if o.completed_at is not None]
    on_time_done = [o for o in done if o.due_at is None or o.completed_at <= o.due_at]
    return {
        "closed": len(cases),
        "K-01": _ratio(len(resolved), len(counted)),
        "K-02": _ratio(len([c for c in rated if c.satisfaction in SATISFIED]), len(rated)),
        "K-03": _ratio(len([c for c in cases if c.second_complaint]), len(cases)),
        "K-26": _ratio(len(on_time_sign), len(orders)),
        "K-25": _ratio(len(on_time_done), len(done)),
        "K-05": _mean([max(0.0, (o.accepted_at - o.dispatched_at) / timedelta(hours=1))
                       for o in signed]),
        "K-08": _mean([max(0.0, (c.closed_at - c.opened_at) / timedelta(days=1)) for c in cases]),
    }


def _against_targets(session: Session, overall: dict, last_day: date) -> dict:
    """The district's KPIs against the targets valid on the last day (kpi_target rows; the
    records keep percentages in percent, this report keeps ratios)."""
    out, targets = {}, all_targets(session)
    for kpi in ("K-01", "K-02", "K-03", "K-05"):
        target, value = pick(targets, kpi, last_day), overall.get(kpi)
        goal = None if target is None else (
            round(target.value / 100, 4) if kpi != "K-05" else target.value)
        met = None
        if goal is not None and target is not None and value is not None:
            met = value >= goal if target.comparator == ">=" else value <= goal
        out[kpi] = {"name": KPI_ZH[kpi], "value": value, "met": met,
                    "target": None if target is None else f"{target.comparator} {goal}",
                    "source": None if target is None else target.source}
    return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(mean(values), 2) if values else None
