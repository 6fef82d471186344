"""When a channel received the matter (``received_at``): the start of the response limits and of
the duplicate window, so it is checked against the clock.

* not in the future beyond ``received_skew_minutes`` (the channel's clock may run a little ahead);
* not more than ``received_max_days`` in the past unless the clerk types why it comes late
  (``received_late_reason``, stored on the case and in the case_opened audit event);
* a year outside 2000 .. next year is a typing error, whatever the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.core.errors import ErrorCode, FieldError
from workflows.core.settings import Settings

FIRST_YEAR = 2000


def received_errors(received_at: datetime | None, late_reason: str | None, now: datetime,
                    settings: Settings) -> dict[str, FieldError]:
    """Field errors of a received time (None: received now, nothing to check)."""
    if received_at is None:
        return {}
    # the year first: year 1 or 9999 must not reach the arithmetic below (it overflows)
    last_year = now.year + 1
    if not FIRST_YEAR <= received_at.year <= last_year:
        return {"received_at": FieldError(ErrorCode.RECEIVED_YEAR,
                                          {"low": FIRST_YEAR, "high": last_year})}
    skew = settings.received_skew_minutes
    if received_at > now + timedelta(minutes=skew):
        return {"received_at": FieldError(ErrorCode.RECEIVED_IN_FUTURE, {"minutes": skew})}
    days = settings.received_max_days
    if received_at < now - timedelta(days=days) and not (late_reason or "").strip():
        return {"received_late_reason": FieldError(ErrorCode.RECEIVED_LATE_REASON,
                                                   {"days": days})}
    return {}


def is_late(received_at: datetime | None, now: datetime, settings: Settings) -> bool:
    """Older than the window (the reason is then kept on the case)."""
    return received_at is not None and \
        received_at < now - timedelta(days=settings.received_max_days)
