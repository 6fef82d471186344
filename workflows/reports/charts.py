"""What the report charts show, computed when a report is generated and stored in its summary.

* ``trend``: cases received and closed per day (periods up to 45 days) or per week (Monday
  first) within the period; duplicates never count.
* ``series``: the bars of the report's own chart: listed cases by lead department (weekly),
  overdue / escalated / upgraded orders by department (monthly), the rates by department
  (quarterly).

Rates stay ratios (0.85) in stored data; ``percent`` is how every output shows them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Case

DAILY_UP_TO = 45       # days; longer periods are charted by week
RATE_KEYS = ("K-01", "K-02", "K-03", "K-26", "K-25")   # ratios shown as percentages


def percent(value: float | None) -> str:
    """0.8532 -> '85.3%'; None -> '—'."""
    return "—" if value is None else f"{value * 100:.1f}%"


def shown(key: str, value: object) -> object:
    """A cell as people read it: a rate as a percentage, anything else as it is."""
    if key in RATE_KEYS and isinstance(value, int | float):
        return percent(float(value))
    return value


def shown_target(kpi: str, target: str | None) -> str | None:
    """'>= 0.85' -> '≥ 85.0%' for a rate; '<= 24.0' -> '≤ 24' otherwise."""
    if not target:
        return target
    comparator, _, number = target.partition(" ")
    sign = {">=": "≥", "<=": "≤"}.get(comparator, comparator)
    try:
        value = float(number)
    except ValueError:
        return target
    return f"{sign} {percent(value) if kpi in RATE_KEYS else f'{value:g}'}"


def trend(session: Session, start: datetime, end: datetime, tz: tzinfo) -> list[dict]:
    """[{"label", "received", "closed"}] per day or per week of [start, end)."""
    first, last = start.astimezone(tz).date(), (end - timedelta(microseconds=1)).astimezone(tz).date()
    weekly = (last - first).days + 1 > DAILY_UP_TO

    def bucket(moment: datetime) -> date:
        day = moment.astimezone(tz).date()
        return day - timedelta(days=day.weekday()) if weekly else day

    received = Counter(bucket(m) for m in session.scalars(select(Case.opened_at).where(
        Case.duplicate_of_id.is_(None), Case.opened_at >= start, Case.opened_at < end)))
    closed = Counter(bucket(m) for m in session.scalars(select(Case.closed_at).where(
        Case.duplicate_of_id.is_(None), Case.closed_at >= start, Case.closed_at < end)) if m)
    out, day = [], bucket(start)
    step = timedelta(days=7 if weekly else 1)
    while day <= last:
        out.append({"label": day.isoformat(), "received": received.get(day, 0),
                    "closed": closed.get(day, 0)})
        day += step
    return out


def series(kind: str, rows: list[dict], summary: dict) -> dict:
    """{"title", "names": [bar names], "columns": [[key, label]], "values": [[...], ...],
    "top": the longest bar's value}."""
    chart = _series(kind, rows, summary)
    numbers = [v for row in chart["values"] for v in row if isinstance(v, int | float)]
    chart["top"] = 1 if chart.get("percent") else max(numbers, default=0) or 1
    return chart


def _series(kind: str, rows: list[dict], summary: dict) -> dict:
    if kind == "weekly":
        counts = Counter(row.get("department") or "未分派" for row in rows)
        names = sorted(counts, key=lambda name: (-counts[name], name))
        return {"title": "列入清单的案件（按牵头部门）", "names": names,
                "columns": [["listed", "案件数"]], "values": [[counts[n]] for n in names]}
    if kind == "monthly":
        departments = summary.get("departments") or {}
        names = sorted(departments)
        return {"title": "超期与督办工单（按部门）", "names": names,
                "columns": [["overdue", "超期"], ["escalated", "督办"], ["upgraded", "升级督办"]],
                "values": [[departments[n].get(k, 0) for k in ("overdue", "escalated", "upgraded")]
                           for n in names]}
    departments = [row for row in rows if row.get("scope") == "部门"]
    return {"title": "各部门指标", "names": [row["name"] for row in departments],
            "columns": [["K-01", "化解率"], ["K-26", "按时签收率"], ["K-25", "按期办结率"]],
            "values": [[row.get(k) for k in ("K-01", "K-26", "K-25")] for row in departments],
            "percent": True}
