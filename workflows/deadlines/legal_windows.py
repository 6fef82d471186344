"""What the case page says about a legal window: its T-id (the basis is worded in the web label
table), the date it counts from and its last day (docs/legal-windows.md)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta, tzinfo
from typing import Any

from engine.instance import BoundaryTimer

T_ID = re.compile(r"^(T-\d\d[a-z]?)")


def legal_window(timer: BoundaryTimer, data: dict[str, Any], tz: tzinfo) -> dict | None:
    """{"tid", "start", "last_day", "at_midnight"} of a timer whose documentation names a T-id;
    ``start`` is the typed date of a `from` timer (None: it counts from when it was armed)."""
    found = T_ID.match(timer.documentation or "")
    if found is None:
        return None
    local = timer.due_at.astimezone(tz)
    at_midnight = local.time() == time(0)
    return {"tid": found.group(1), "start": _day(data.get(timer.typed_start or "")),
            "last_day": (local - timedelta(days=1)).date() if at_midnight else local.date(),
            "at_midnight": at_midnight}


def _day(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


__all__ = ["legal_window"]
