"""Calendar overrides: admins add or withdraw a day's override (docs/calendar.md); rows are
superseded, never deleted, so the calendar as of any instant can be rebuilt for replay.

A change applies to deadlines computed afterwards; armed timers keep their due time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.deadlines import WorkingCalendar, covers_year
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.dates import plan_day_error
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotPermitted
from workflows.models import CalendarOverride, DayKind
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

EDITORS = ("admin",)


def add_override(uow: UnitOfWork, actor: Actor, *, day: date, kind: str,
                 reason: str) -> CalendarOverride:
    """Make ``day`` a working day or a day off (replacing an earlier override of that day)."""
    _check(actor, kind=kind, reason=reason)
    with uow:
        wrong = plan_day_error(day, uow.clock.now(), uow.services.settings)
        if wrong is not None:
            raise InvalidInput({"day": wrong})
        before = _supersede(uow, day)
        row = CalendarOverride(day=day, kind=str(DayKind(kind)), reason=reason.strip()[:200],
                               created_by=_user_id(actor), created_at=uow.clock.now())
        uow.session.add(row)
        uow.session.flush()
        _audit(uow, actor, day, before, row.kind, reason)
        uow.after_commit(uow.services.calendar.invalidate)
        uow.commit()
    return row


def withdraw_override(uow: UnitOfWork, actor: Actor, *, day: date, reason: str) -> None:
    """Withdraw the override of ``day``: chinese-calendar decides again."""
    _check(actor, kind=DayKind.WORKDAY, reason=reason)
    with uow:
        before = _supersede(uow, day)
        if before is None:
            raise InvalidInput({"day": FieldError(ErrorCode.NO_OVERRIDE, {"day": day.isoformat()})})
        _audit(uow, actor, day, before, None, reason)
        uow.after_commit(uow.services.calendar.invalidate)
        uow.commit()


def _check(actor: Actor, *, kind: str, reason: str) -> None:
    if not actor.has(*EDITORS) and actor.type != "system":
        raise NotPermitted(ErrorCode.CALENDAR_ADMIN_ONLY, rule="calendar.edit")
    errors = {}
    if kind not in set(DayKind):
        errors["kind"] = FieldError(ErrorCode.BAD_DAY_KIND)
    if not (reason or "").strip():
        errors["reason"] = FieldError(ErrorCode.CALENDAR_REASON_REQUIRED)
    errors.update(pii_text.field_errors({"reason": reason}))
    if errors:
        raise InvalidInput(errors)


def _supersede(uow: UnitOfWork, day: date) -> str | None:
    now = uow.clock.now()
    before = None
    for row in uow.session.scalars(select(CalendarOverride).where(
            CalendarOverride.day == day, CalendarOverride.superseded_at.is_(None))):
        before, row.superseded_at = row.kind, now
    return before


def _audit(uow: UnitOfWork, actor: Actor, day: date, before: str | None, after: str | None,
           reason: str) -> None:
    calendar = WorkingCalendar()
    uow.audit.record(AuditAction.CALENDAR_CHANGED, actor, object_type="calendar_day",
                     object_id=day.isoformat(), day=day.isoformat(), before=before, after=after,
                     statutory_working_day=calendar.is_working_day(day), reason=reason.strip())


def _user_id(actor: Actor) -> int | None:
    if actor.type == "user" and actor.id is not None and str(actor.id).isdigit():
        return int(actor.id)
    return None


# -- reading ------------------------------------------------------------------------------------
def active_overrides(session: Session, year: int | None = None) -> list[CalendarOverride]:
    """Overrides in force, by day (optionally one year)."""
    query = select(CalendarOverride).where(CalendarOverride.superseded_at.is_(None))
    if year is not None:
        query = query.where(CalendarOverride.day >= date(year, 1, 1),
                            CalendarOverride.day <= date(year, 12, 31))
    return list(session.scalars(query.order_by(CalendarOverride.day)))


def override_history(session: Session, year: int | None = None) -> list[CalendarOverride]:
    """Every override row, superseded ones included (what the calendar was, and who changed it)."""
    query = select(CalendarOverride)
    if year is not None:
        query = query.where(CalendarOverride.day >= date(year, 1, 1),
                            CalendarOverride.day <= date(year, 12, 31))
    return list(session.scalars(query.order_by(CalendarOverride.day, CalendarOverride.id)))


def year_days(calendar: WorkingCalendar, year: int) -> dict[str, list[date]]:
    """Statutory holidays and make-up working days of a year (the calendar page and CLI)."""
    day = date(year, 1, 1)
    out: dict[str, list[date]] = {"holidays": [], "makeup_workdays": []}
    while day.year == year:
        working = calendar.is_working_day(day)
        if not working and calendar.is_statutory_holiday(day):
            out["holidays"].append(day)
        elif working and day.weekday() >= 5:
            out["makeup_workdays"].append(day)
        day = date.fromordinal(day.toordinal() + 1)
    return out


def horizon_warning(services: Services, now: datetime) -> str | None:
    """From 1 November: next year's holidays are not yet known (package or overrides)."""
    local = now.astimezone(services.calendar.tz)
    year = local.year + 1
    if local.month < 11 or covers_year(year):
        return None
    with services.session_factory() as session:
        if active_overrides(session, year):
            return None
    return f"{year} 年节假日安排尚未录入：请升级 chinese-calendar 或在日历管理中录入调整"
