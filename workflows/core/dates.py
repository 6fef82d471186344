"""Sane bounds for dates people type, and ages that are never negative.

A date that records something that happened (an agreement reached, an application filed) lies
between the configured floor (``Settings.date_floor``) and today, plus the clock skew the intake
allows for the received time. A date that plans something (a calendar override) lies between the
floor and the end of the year after next. Every date of a task form records what happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.core.errors import ErrorCode, FieldError
from workflows.core.settings import Settings

PLAN_YEARS = 2  # calendar overrides: this year and the next two (the State Council's notice)


def floor(settings: Settings) -> date:
    """The earliest date any form accepts."""
    return date.fromisoformat(settings.date_floor)


def latest_past(now: datetime, settings: Settings) -> date:
    """The last day a date of something that happened may name: today in the local time zone,
    read with the allowed clock skew."""
    ahead = now + timedelta(minutes=settings.received_skew_minutes)
    return ahead.astimezone(ZoneInfo(settings.timezone)).date()


def past_day_error(day: date, now: datetime, settings: Settings) -> FieldError | None:
    """The error of a typed date that records something that happened; None when it is sane."""
    if day < floor(settings):
        return FieldError(ErrorCode.DATE_BEFORE_FLOOR, {"floor": settings.date_floor})
    latest = latest_past(now, settings)
    if day > latest:
        return FieldError(ErrorCode.DATE_IN_FUTURE, {"latest": latest.isoformat()})
    return None


def plan_day_error(day: date, now: datetime, settings: Settings) -> FieldError | None:
    """The error of a typed date that plans ahead (a calendar day); None when it is sane."""
    if day < floor(settings):
        return FieldError(ErrorCode.DATE_BEFORE_FLOOR, {"floor": settings.date_floor})
    latest = date(now.year + PLAN_YEARS, 12, 31)
    if day > latest:
        return FieldError(ErrorCode.DATE_TOO_FAR, {"latest": latest.isoformat()})
    return None


def elapsed_days(start: datetime | date, end: datetime | date) -> int:
    """Whole days from ``start`` to ``end``, never negative: a start after the end (a clock
    that ran ahead, a date typed wrong before the bounds existed) counts as no time at all."""
    return max(0, (end - start).days)  # type: ignore[operator]


def filter_bounds(now: datetime, settings: Settings) -> tuple[date, date]:
    """The range a list filter's date may name: the floor to the end of next year (an end date
    a little ahead is a normal way to say "until now")."""
    return floor(settings), date(now.year + 1, 12, 31)


def filter_day_error(day: date, bounds: tuple[date, date]) -> FieldError | None:
    """The error of a filter's date outside ``bounds``; None when it is inside."""
    low, high = bounds
    if day < low:
        return FieldError(ErrorCode.DATE_BEFORE_FLOOR, {"floor": low.isoformat()})
    if day > high:
        return FieldError(ErrorCode.DATE_TOO_FAR, {"latest": high.isoformat()})
    return None
