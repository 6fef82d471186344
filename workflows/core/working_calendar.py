"""The working calendar with admin overrides from the database, cached until invalidated."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from threading import Lock
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from engine.deadlines import WorkingCalendar, check_spec
from workflows.models.admin import CalendarOverride


class CalendarProvider:
    """Resolves deadline specs with chinese-calendar plus the current overrides."""

    def __init__(self, session_factory: Callable[[], Session], tz: str = "Asia/Shanghai"):
        self.session_factory = session_factory
        self.tz = ZoneInfo(tz)
        self._calendar: WorkingCalendar | None = None
        self._lock = Lock()

    @property
    def calendar(self) -> WorkingCalendar:
        calendar = self._calendar   # read on every deadline: no lock once built
        if calendar is not None:
            return calendar
        with self._lock:
            if self._calendar is None:
                with self.session_factory() as session:
                    self._calendar = WorkingCalendar(self._overrides(session), tz=self.tz)
            return self._calendar

    def warm(self, session: Session) -> None:
        """Load overrides through the caller's session (a second SQLite connection would wait
        behind that session's write lock)."""
        with self._lock:
            if self._calendar is None:
                self._calendar = WorkingCalendar(self._overrides(session), tz=self.tz)

    def invalidate(self) -> None:
        """Overrides changed: deadlines computed from now on use them (armed timers keep theirs)."""
        with self._lock:
            self._calendar = None

    def resolve(self, spec: str, start: datetime) -> datetime:
        return self.calendar.resolve(spec, start)

    def warn_at(self, spec: str, start: datetime) -> datetime:
        return self.calendar.warn_at(spec, start)

    @staticmethod
    def check_spec(spec: str) -> None:
        check_spec(spec)

    @staticmethod
    def _overrides(session: Session) -> dict[date, bool]:
        try:
            with session.begin_nested():
                rows = session.scalars(select(CalendarOverride)
                                       .where(CalendarOverride.superseded_at.is_(None))).all()
        except SQLAlchemyError:  # database not migrated yet: plain chinese-calendar
            return {}
        return {row.day: row.kind == "workday" for row in rows}
