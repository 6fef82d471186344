"""The one deadline calculator for BPMN timers and SLA clocks."""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Used only beyond the package's data: 元旦, 劳动节, 国庆 have fixed dates, lunar holidays do not.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)})

# Upper bounds keep a typo such as working_days(20000) from looping at deploy time or overflowing.
MAX_COUNT = {"working_days": 1000, "statutory_days": 3660, "statutory_months": 240}

_CALENDAR_FORM = re.compile(r"(working_days|statutory_days|statutory_months)\(\s*(\d{1,5})\s*\)")
_DURATION = re.compile(
    r"P(?:(?P<weeks>\d{1,5})W|(?:(?P<years>\d{1,3})Y)?(?:(?P<months>\d{1,4})M)?(?:(?P<days>\d{1,5})D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,7})M)?(?:(?P<seconds>\d{1,9})S)?)?)"
)
_REFERENCE_START = datetime(2025, 1, 1, tzinfo=SHANGHAI)


def covers_year(year: int) -> bool:
    """Whether chinese-calendar ships the State Council holiday arrangement for this year."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def check_spec(spec: str) -> str:
    """Validate a deadline spec at deploy time; returns it stripped or raises ValueError."""
    WorkingCalendar().resolve(spec, _REFERENCE_START)
    return spec.strip()


class WorkingCalendar:
    """Working days (chinese-calendar + overrides + fallback) and deadlines in Asia/Shanghai."""

    covers_year = staticmethod(covers_year)

    def __init__(self, overrides: Mapping[date, bool] | None = None, tz: tzinfo = SHANGHAI):
        self.overrides: Mapping[date, bool] = dict(overrides or {})  # True = working day
        self.tz = tz
        # a day's answer and the n-th working day after a day depend on nothing but the
        # overrides (fixed for a calendar's life: changed ones make a new calendar) and the
        # package's fixed data, so each is worked out once
        self._working: dict[date, bool] = {}
        self._holiday: dict[date, bool] = {}
        self._nth: dict[tuple[date, int], date] = {}

    # -- days -----------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Mon-Fri plus make-up working days (调休) minus statutory holidays; overrides win."""
        day = _as_date(day)
        known = self._working.get(day)
        if known is None:
            known = self._working[day] = self._is_working_day(day)
        return known

    def _is_working_day(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:  # year not (yet) published in the package
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def is_statutory_holiday(self, day: date) -> bool:
        """A day off that is not merely a weekend: statutory holiday or an override closure."""
        day = _as_date(day)
        known = self._holiday.get(day)
        if known is None:
            known = self._holiday[day] = self._is_statutory_holiday(day)
        return known

    def _is_statutory_holiday(self, day: date) -> bool:
        if day in self.overrides:
            return not self.overrides[day]
        try:
            off, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return (day.month, day.day) in FIXED_HOLIDAYS
        return bool(off and name is not None)

    # -- period kinds ---------------------------------------------------------------------------

    def working_days(self, start: date | datetime, n: int) -> datetime:
        """24:00 of the n-th working day after the start day (start day not counted)."""
        return self._end_of(self._nth_working_day(self._day(start), _positive(n)))

    def statutory_days(
        self, start: date | datetime, n: int, extend_on_weekend: bool = True
    ) -> datetime:
        """民法典 Arts 201/203: start day not counted; ends 24:00, a day off moves the end on."""
        last = self._day(start) + timedelta(days=_positive(n))
        return self._end_of(self._extend(last, extend_on_weekend))

    def statutory_months(
        self, start: date | datetime, n: int, extend_on_weekend: bool = True
    ) -> datetime:
        """民法典 Art 202: the corresponding day of the final month (or its last day), extended."""
        last = _add_months(self._day(start), _positive(n))
        return self._end_of(self._extend(last, extend_on_weekend))

    # -- specs ----------------------------------------------------------------------------------

    def resolve(self, spec: str, start: datetime) -> datetime:
        """Due instant for 'PT2H', 'P15D', 'P1M', 'working_days(n)', 'statutory_days(n)',
        'statutory_months(n)' or an offset-aware ISO date-time; ValueError if invalid."""
        start = _aware(start)
        spec = _text(spec)
        form = _CALENDAR_FORM.fullmatch(spec)
        try:
            if form:
                name, count = form.group(1), _count(form.group(1), int(form.group(2)))
                return getattr(self, name)(start, count)
            if spec.startswith("P"):
                return self._add_duration(start, spec)
        except OverflowError as exc:
            raise ValueError(f"期限超出可计算范围：{spec!r}") from exc
        return self._moment(spec)

    def warn_at(self, spec: str, start: datetime) -> datetime:
        """Yellow-light instant: 75% of the period in its own unit."""
        due = self.resolve(spec, start)
        form = _CALENDAR_FORM.fullmatch(spec.strip())
        if form is None:  # natural time and absolute instants: 75% of the exact span
            return due if due <= start else (start + (due - start) * 3 / 4).astimezone(self.tz)
        name, n = form.group(1), int(form.group(2))
        first = self._day(start)
        if name == "working_days":
            return self._day_fraction(lambda k: self._nth_working_day(first, k), n)
        if name == "statutory_months":
            n = (_add_months(first, n) - first).days
        return self._day_fraction(lambda k: first + timedelta(days=k), n)

    # -- helpers --------------------------------------------------------------------------------

    def _day_fraction(self, day_no: Callable[[int], date], n: int) -> datetime:
        """The instant 3n/4 whole 24 h days into a period whose k-th counted day is day_no(k)."""
        whole, quarters = divmod(3 * n, 4)
        if quarters == 0:
            return self._end_of(day_no(whole))
        return self._start_of(day_no(whole + 1)) + timedelta(hours=6 * quarters)

    def _nth_working_day(self, first: date, n: int) -> date:
        found = self._nth.get((first, n))
        if found is None:
            day, left = first, n
            while left > 0:
                day += timedelta(days=1)
                left -= self.is_working_day(day)
            found = self._nth[(first, n)] = day
        return found

    def _extend(self, day: date, extend_on_weekend: bool) -> date:
        # a make-up working day (e.g. Sat 2025-10-11) is never extended over
        while not self.is_working_day(day) and (
            extend_on_weekend or self.is_statutory_holiday(day)
        ):
            day += timedelta(days=1)
        return day

    def _add_duration(self, start: datetime, spec: str) -> datetime:
        parts = _parse_duration(spec)
        local = start.astimezone(self.tz)
        months = 12 * parts.pop("years") + parts.pop("months")
        if months:  # calendar months on the local wall clock, clamped to the month's last day
            moved = _add_months(local.date(), months)
            local = datetime.combine(moved, local.timetz())
        return (local + timedelta(**parts)).astimezone(self.tz)

    def _moment(self, spec: str) -> datetime:
        try:
            moment = datetime.fromisoformat(spec)
        except ValueError:
            raise ValueError(_unknown_spec(spec)) from None
        if moment.tzinfo is None:
            raise ValueError(f"日期时间缺少时区偏移（如 +08:00）：{spec!r}")
        return moment.astimezone(self.tz)

    def _day(self, start: date | datetime) -> date:
        if isinstance(start, datetime):
            return _aware(start).astimezone(self.tz).date()
        return start

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz)

    def _end_of(self, day: date) -> datetime:
        """24:00 of the day, written as 00:00 of the next day."""
        return self._start_of(day + timedelta(days=1))


def _parse_duration(spec: str) -> dict[str, int]:
    match = _DURATION.fullmatch(spec)
    if match is None:
        hours_before_t = re.search(r"P[^T]*H", spec)
        hint = "；时、分、秒须写在 T 之后（如 PT2H；P 后的 M 表示月）" if hours_before_t else ""
        raise ValueError(f"无效的 ISO 8601 时长：{spec!r}{hint}")
    parts = {key: int(value or 0) for key, value in match.groupdict().items()}
    if not any(parts.values()):
        raise ValueError(f"时长不能为零：{spec!r}")
    parts["days"] += 7 * parts.pop("weeks")
    return parts


def _add_months(day: date, months: int) -> date:
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _count(name: str, n: int) -> int:
    if not 1 <= n <= MAX_COUNT[name]:
        raise ValueError(f"{name} 的天/月数须在 1 到 {MAX_COUNT[name]} 之间，实际为 {n}")
    return n


def _positive(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"期限长度须为正整数，实际为 {n!r}")
    return n


def _text(spec: str) -> str:
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"期限表达式须为非空字符串，实际为 {spec!r}")
    return spec.strip()


def _aware(moment: datetime) -> datetime:
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"起算时间须为带时区的 datetime，实际为 {moment!r}")
    return moment


def _as_date(day: date) -> date:
    return day.date() if isinstance(day, datetime) else day


def _unknown_spec(spec: str) -> str:
    return (
        f"无法识别的期限表达式：{spec!r}（可用：PT2H、P15D、P1M、working_days(n)、"
        "statutory_days(n)、statutory_months(n) 或带时区偏移的 ISO 日期时间）"
    )
