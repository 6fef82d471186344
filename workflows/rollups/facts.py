"""What one case contributes to the rollups, from its row, its work orders and their response
limits — the same conditions as the cockpit's drill-down queries (workflows/reports/kpi_cases.py,
which imports the outcome and rating sets from here), computed in Python.

``facts`` turns the rows into a small JSON-able dict (kept per case in rollup_case_facts);
``contributions`` turns facts into {(table, key): measures}. A change replaces a case's old
contributions by its new ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from workflows.models import path_ids
from workflows.models.rollups import NO_NOTICE, NOT_CLOSED

RESOLVED = ("R1", "R2")
ROUTED = ("R4",)
SATISFIED = ("satisfied", "basically_satisfied", "满意", "基本满意")
DISSATISFIED = ("dissatisfied", "不满意")
URGENT_LIMIT_HOURS, GENERAL_LIMIT_HOURS = 2, 24   # T-01 when an order has no recorded limit
AREA_DEPTH = 3            # district / street or township / community or village
GRAINS = ("d", "m", "y")
CASE_MEASURES = ("received", "closed", "counted", "resolved", "rated", "satisfied", "second",
                 "days")
ORDER_MEASURES = ("dispatched", "signed", "hours", "urgent_signed", "urgent_hours", "done",
                  "done_on_time", "signed_on_time", "returns")
TABLES = {"case": CASE_MEASURES, "open": ("cases",), "order": ORDER_MEASURES,
          "place": ("received",), "board": ("cases",), "notice": ("cases",)}
LIGHTS = ("green", "yellow", "orange", "red")     # a work order's light, worst last

Key = tuple[str, tuple[Any, ...]]
Contributions = dict[Key, list[float]]


def area_of(path: str | None) -> str:
    """The place path cut at the community/village level ('' without a place)."""
    ids = path_ids(path)[:AREA_DEPTH]
    return "/" + "/".join(str(i) for i in ids) + "/" if ids else ""


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _day(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return None if moment is None else _utc(moment).astimezone(tz).date().isoformat()


def _seconds(later: datetime, earlier: datetime) -> float:
    return (_utc(later) - _utc(earlier)).total_seconds()


def notice_facts(notices: Iterable[Any], tz: ZoneInfo) -> list[list[Any]]:
    """A case's supervision notices as sorted [local day, unit id (0: none), level]."""
    return sorted([_day(n.issued_at, tz), n.department_id or 0, int(n.level)] for n in notices)


def facts(case: Any, orders: Iterable[Any], limits: dict[int, datetime], tz: ZoneInfo,
          notices: list[list[Any]] | None = None) -> dict[str, Any] | None:
    """The facts of one case (``case`` and ``orders`` are rows or objects with the model's
    attribute names; ``limits`` maps a work order id to its recorded response limit;
    ``notices`` as notice_facts gives them). None for a duplicate (重复件), which never
    counts."""
    if case.duplicate_of_id is not None or case.opened_at is None:
        return None
    outcome = (case.outcome or "").upper()
    rating = case.satisfaction or ""
    urgent = case.urgency == "urgent"
    closed = case.status == "closed" and case.closed_at is not None
    out: dict[str, Any] = {
        "o": _day(case.opened_at, tz), "a": area_of(case.place_path),
        "u": case.lead_department_id or 0, "g": case.category or "",
        "p": case.place_id or 0, "pp": case.place_path or "", "c": None, "w": []}
    if closed:
        out["c"] = _day(case.closed_at, tz)
        out["x"] = [int(outcome not in ROUTED),
                    int(outcome in RESOLVED and rating not in DISSATISFIED),
                    int(rating in SATISFIED + DISSATISFIED), int(rating in SATISFIED),
                    int(bool(case.second_complaint)),
                    _seconds(case.closed_at, case.opened_at) / 86400.0]
    fallback = (URGENT_LIMIT_HOURS if urgent else GENERAL_LIMIT_HOURS) * 3600.0
    orders = list(orders)
    out["n"] = notices or []
    if case.status != "closed":     # on the live board: risk, worst light, highest rung
        light = max((LIGHTS.index(o.light) for o in orders if o.light in LIGHTS), default=0)
        level = max((n[2] for n in out["n"]), default=-1)
        out["b"] = [case.risk_level or "", light, level]
    for order in orders:
        if order.dispatched_at is None:
            continue
        signed = order.accepted_at is not None
        seconds = _seconds(order.accepted_at, order.dispatched_at) if signed else 0.0
        limit = limits.get(order.id)
        allowed = fallback if limit is None else _seconds(limit, order.dispatched_at)
        done = order.completed_at is not None
        out["w"].append([
            _day(order.dispatched_at, tz), order.department_id or 0, int(signed),
            seconds / 3600.0,
            int(done), int(done and (order.due_at is None or
                                     _utc(order.completed_at) <= _utc(order.due_at))),
            int(signed and seconds <= allowed),
            int(order.status == "returned" or order.return_reason is not None)])
    out["w"].sort()
    out["r"] = int(urgent)
    return out


def _grains(day: str) -> list[tuple[str, date]]:
    value = date.fromisoformat(day)
    return [("d", value), ("m", value.replace(day=1)), ("y", value.replace(month=1, day=1))]


def _add(out: Contributions, key: Key, values: list[float]) -> None:
    have = out.get(key)
    if have is None:
        out[key] = list(values)
    else:
        for i, v in enumerate(values):
            have[i] += v


def contributions(f: dict[str, Any] | None) -> Contributions:
    """The rollup rows one case adds to, and by how much (nothing for None)."""
    out: Contributions = {}
    if not f:
        return out
    area, unit, category = f["a"], f["u"], f["g"]
    closed_on = date.fromisoformat(f["c"]) if f["c"] else None
    for grain, day in _grains(f["o"]):
        _add(out, ("case", (grain, day, area, unit, category)), [1, 0, 0, 0, 0, 0, 0, 0.0])
        closed_key = NOT_CLOSED if closed_on is None else (    # months for month and year rows
            closed_on if grain == "d" else closed_on.replace(day=1))
        _add(out, ("open", (grain, day, area, unit, closed_key)), [1])
        _add(out, ("place", (grain, day, f["p"], category)), [1])
    if closed_on is not None:
        x = f["x"]
        for grain, day in _grains(f["c"]):
            _add(out, ("case", (grain, day, area, unit, category)),
                 [0, 1, x[0], x[1], x[2], x[3], x[4], x[5]])
    if f.get("b"):
        risk, light, level = f["b"]
        _add(out, ("board", (area, unit, risk, light, level)), [1])
    _notices(out, area, f.get("n") or [])
    urgent = f.get("r", 0)
    for day_text, dept, signed, hours, done, on_time, signed_on_time, returned in f["w"]:
        for grain, day in _grains(day_text):
            _add(out, ("order", (grain, day, area, dept)),
                 [1, signed, hours, signed * urgent, hours * urgent, done, on_time,
                  signed_on_time, returned])
    return out


def _notices(out: Contributions, area: str, notices: list[list[Any]]) -> None:
    """Each notice counts under its day and the day of the case's previous notice to the same
    unit: the first notice of a period (previous one before it) counts the case once."""
    last: dict[int, str] = {}
    for day_text, unit, _level in notices:       # sorted by day
        prev = last.get(unit)
        last[unit] = day_text
        before = date.fromisoformat(prev) if prev else NO_NOTICE
        for grain, day in _grains(day_text):
            _add(out, ("notice", (grain, day, area, unit, before)), [1])


def place_paths(f: dict[str, Any] | None) -> dict[int, str]:
    return {f["p"]: f["pp"]} if f else {}
