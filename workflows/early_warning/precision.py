"""K-11 warning precision: how many of the warnings people checked were real.

precision = confirmed ÷ (confirmed + false alarm), over the warnings **raised** in the period
(local dates, both ends included), overall and by rule. Open warnings are not in the
denominator (nobody has said yet); they are counted beside it. ``value`` is None when no warning
of the period has been decided, so an empty period never divides by zero.

``place_path`` keeps the warnings at that place and below it; a warning without a place (a
person's or an organisation's matters away from any mapped place) belongs to the whole district
and counts only when ``place_path`` is None.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.models import EarlyWarning, Place, WarningKind, WarningState

KPI = "K-11"
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


def warning_precision(session: Session, start: date, end: date, place_path: str | None = None,
                      *, tz: tzinfo = DEFAULT_TZ) -> dict:
    """``{"id": "K-11", "value", "numerator", "denominator", "raised", "open",
    "by_rule": {rule: {"value", "numerator", "denominator", "raised", "open"}}}``; every rule
    appears in ``by_rule`` (zeros when it raised nothing)."""
    lower = datetime.combine(start, time(0), tz)
    upper = datetime.combine(end + timedelta(days=1), time(0), tz)
    query = (select(EarlyWarning.kind, EarlyWarning.state, func.count(EarlyWarning.id))
             .where(EarlyWarning.raised_at >= lower, EarlyWarning.raised_at < upper)
             .group_by(EarlyWarning.kind, EarlyWarning.state))
    if place_path is not None:
        query = query.join(Place, Place.id == EarlyWarning.place_id).where(
            Place.path.startswith(place_path, autoescape=True))
    counts: dict[str, dict[str, int]] = {str(kind): {} for kind in WarningKind}
    for kind, state, count in session.execute(query):
        counts.setdefault(kind, {})[state] = count
    by_rule = {kind: _figure(states) for kind, states in counts.items()}
    total: dict[str, int] = {}
    for states in counts.values():
        for state, count in states.items():
            total[state] = total.get(state, 0) + count
    return {"id": KPI, **_figure(total), "by_rule": by_rule}


def _figure(states: dict[str, int]) -> dict:
    confirmed = states.get(WarningState.CONFIRMED, 0)
    decided = confirmed + states.get(WarningState.FALSE_ALARM, 0)
    return {"value": round(confirmed / decided, 4) if decided else None,
            "numerator": confirmed, "denominator": decided,
            "raised": sum(states.values()), "open": states.get(WarningState.OPEN, 0)}
