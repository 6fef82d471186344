"""Whole numbers from query strings and forms without 500s.

``str.isdigit()`` accepts '²' (and ``int()`` then raises), ``int()`` refuses more than 4300 digits,
and a page number of 10**20 overflows the SQL offset on PostgreSQL: every number a client sends
goes through ``whole_number``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, request

from workflows.core import dates

MAX_DIGITS = 12
MAX_PAGE = 10_000


def whole_number(value: Any, default: Any = None, *, minimum: int | None = None,
                 maximum: int | None = None) -> Any:
    """``value`` as an int when it is 1-12 ASCII digits within the bounds, else ``default``."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return default
    number = int(text)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return default
    return number


def page_arg(name: str = "page") -> int:
    """The page number of a list (1 when missing, malformed or absurd)."""
    return whole_number(request.args.get(name), 1, minimum=1, maximum=MAX_PAGE)


def day_arg(name: str) -> date | None:
    """A YYYY-MM-DD date from the query string, None when missing, not a date, or outside the
    filters' sane range (workflows/core/dates.py: year 1 or 9999 is a typing error)."""
    text = (request.args.get(name) or "").strip()
    if len(text) != 10 or not text.isascii():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    services = current_app.extensions["jiefen_services"]
    bounds = dates.filter_bounds(services.clock.now(), services.settings)
    return None if dates.filter_day_error(day, bounds) else day
