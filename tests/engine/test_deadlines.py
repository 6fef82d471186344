"""Deadline calculator: the worked examples and warning rule of docs/calendar.md, 2026 holidays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from chinese_calendar.constants import holidays as PACKAGE_HOLIDAYS
from chinese_calendar.constants import workdays as PACKAGE_WORKDAYS

from engine.deadlines import WorkingCalendar, check_spec, covers_year

SH = ZoneInfo("Asia/Shanghai")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SH)


def end_of(y: int, m: int, d: int) -> datetime:
    """24:00 of the given local day."""
    return local(y, m, d) + timedelta(days=1)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# the worked examples of docs/calendar.md -----------------------------------------------------------

WORKED = [
    (local(2025, 3, 3, 10, 20), "PT24H", local(2025, 3, 4, 10, 20)),
    (local(2025, 3, 4), "statutory_months(1)", end_of(2025, 4, 7)),  # 清明 Apr 4-6
    (local(2025, 3, 20), "statutory_days(30)", end_of(2025, 4, 21)),  # Apr 19 is a Saturday
    (local(2025, 7, 4), "working_days(2)", end_of(2025, 7, 8)),
    (local(2025, 3, 10), "working_days(5)", end_of(2025, 3, 17)),
    (local(2025, 9, 30), "working_days(2)", end_of(2025, 10, 10)),
    (local(2025, 9, 30), "statutory_days(15)", end_of(2025, 10, 15)),
    (local(2025, 6, 16), "statutory_days(60)", end_of(2025, 8, 15)),
    (local(2025, 6, 16), "statutory_months(6)", end_of(2025, 12, 16)),
    (local(2025, 9, 29, 9), "working_days(2)", end_of(2025, 10, 9)),
    (local(2025, 10, 1), "statutory_days(10)", end_of(2025, 10, 11)),  # make-up Saturday
    (local(2025, 9, 30, 14, 5), "P15D", local(2025, 10, 15, 14, 5)),  # no calendar
    (local(2026, 12, 20), "working_days(10)", end_of(2027, 1, 4)),  # beyond the data
]


@pytest.mark.parametrize(("start", "spec", "due"), WORKED)
def test_worked_examples(cal, start, spec, due):
    assert cal.resolve(spec, start) == due


def test_due_is_24_00_local_written_as_next_midnight(cal):
    due = cal.resolve("working_days(2)", local(2025, 7, 4, 9, 30))
    assert due.isoformat() == "2025-07-09T00:00:00+08:00"
    assert due.astimezone(UTC) == datetime(2025, 7, 8, 16, 0, tzinfo=UTC)


def test_start_day_is_the_shanghai_day_not_the_utc_day(cal):
    friday_0030_local = datetime(2025, 7, 3, 16, 30, tzinfo=UTC)
    thursday_2359_local = datetime(2025, 7, 3, 15, 59, tzinfo=UTC)
    assert cal.resolve("working_days(2)", friday_0030_local) == end_of(2025, 7, 8)
    assert cal.resolve("working_days(2)", thursday_2359_local) == end_of(2025, 7, 7)


def test_other_timezone_moves_the_day_boundary():
    utc_cal = WorkingCalendar(tz=ZoneInfo("UTC"))
    due = utc_cal.working_days(datetime(2025, 7, 3, 16, 30, tzinfo=UTC), 2)
    assert due == datetime(2025, 7, 8, tzinfo=ZoneInfo("UTC"))  # Thu start: Fri, Mon


def test_period_methods_accept_plain_dates(cal):
    assert cal.working_days(date(2025, 7, 4), 2) == end_of(2025, 7, 8)
    assert cal.statutory_days(date(2025, 3, 20), 30) == end_of(2025, 4, 21)
    assert cal.statutory_months(date(2025, 3, 4), 1) == end_of(2025, 4, 7)


# natural time and months ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "due"),
    [
        ("PT2H", local(2025, 10, 1, 11, 30)),  # holidays do not matter for natural hours
        ("PT90M", local(2025, 10, 1, 11, 0)),
        ("PT30S", local(2025, 10, 1, 9, 30, 30)),
        ("P1W", local(2025, 10, 8, 9, 30)),
        ("P1DT12H", local(2025, 10, 2, 21, 30)),
        ("P1M", local(2025, 11, 1, 9, 30)),
        ("P1Y", local(2026, 10, 1, 9, 30)),
    ],
)
def test_iso_durations_are_natural_time(cal, spec, due):
    assert cal.resolve(spec, local(2025, 10, 1, 9, 30)) == due


def test_month_duration_clamps_to_last_day(cal):
    assert cal.resolve("P1M", local(2025, 1, 31, 8)) == local(2025, 2, 28, 8)
    assert cal.resolve("P1M", local(2024, 1, 31, 8)) == local(2024, 2, 29, 8)


def test_statutory_months_use_the_month_end_when_no_corresponding_day(cal):
    # 2025-02-28 is a Friday working day: no extension
    assert cal.statutory_months(local(2025, 1, 31), 1) == end_of(2025, 2, 28)
    assert cal.statutory_months(local(2025, 8, 31), 12) == end_of(2026, 8, 31)


def test_absolute_datetime_needs_an_offset(cal):
    due = cal.resolve("2025-10-10T00:00:00+08:00", local(2025, 9, 29))
    assert due == local(2025, 10, 10)
    assert cal.resolve("2025-10-09T16:00:00Z", local(2025, 9, 29)) == local(2025, 10, 10)


# calendar data: holidays and make-up working days ----------------------------------------------


def test_2025_national_day_and_make_up_days(cal):
    assert not any(cal.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert cal.is_working_day(date(2025, 9, 28))  # Sunday make-up day
    assert cal.is_working_day(date(2025, 10, 11))  # Saturday make-up day
    assert cal.is_statutory_holiday(date(2025, 10, 4))  # a Saturday inside the holiday
    assert not cal.is_statutory_holiday(date(2025, 7, 5))  # a plain Saturday


def test_2026_spring_festival_hand_checked(cal):
    # State Council 2026 arrangement: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked
    assert not any(cal.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert cal.is_working_day(date(2026, 2, 14))
    assert cal.is_working_day(date(2026, 2, 28))
    assert cal.is_working_day(date(2026, 2, 24))


def test_2026_national_day_hand_checked(cal):
    # Oct 1-7 off, Sun Sep 20 and Sat Oct 10 worked; 中秋 Sep 25-27 off
    assert not any(cal.is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert not cal.is_working_day(date(2026, 9, 25))
    assert cal.is_working_day(date(2026, 9, 20))
    assert cal.is_working_day(date(2026, 10, 10))


@pytest.mark.parametrize("year", [2025, 2026])
def test_agrees_with_the_package_every_day(cal, year):
    day = date(year, 1, 1)
    while day.year == year:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize("year", [2025, 2026])
def test_package_holidays_and_make_up_days_are_respected(cal, year):
    off = [d for d in PACKAGE_HOLIDAYS if d.year == year]
    worked = [d for d in PACKAGE_WORKDAYS if d.year == year]
    assert len(off) >= 25 and len(worked) >= 5
    assert not any(cal.is_working_day(d) for d in off)
    assert all(cal.is_working_day(d) for d in worked)
    assert all(d.weekday() >= 5 for d in worked)


@pytest.mark.parametrize(
    ("start", "spec", "due"),
    [
        (local(2026, 2, 13), "working_days(1)", end_of(2026, 2, 14)),  # make-up Saturday
        (local(2026, 2, 13), "working_days(2)", end_of(2026, 2, 24)),  # over Spring Festival
        (local(2026, 2, 5), "statutory_days(10)", end_of(2026, 2, 24)),  # Feb 15 extended
        (local(2026, 2, 18), "statutory_days(10)", end_of(2026, 2, 28)),  # make-up day: kept
        (local(2026, 9, 18), "working_days(1)", end_of(2026, 9, 20)),  # make-up Sunday
        (local(2026, 9, 21), "working_days(5)", end_of(2026, 9, 29)),  # 中秋 Fri Sep 25
        (local(2026, 9, 30), "working_days(3)", end_of(2026, 10, 10)),  # Oct 8, 9, Sat 10
        (local(2026, 9, 1), "statutory_months(1)", end_of(2026, 10, 8)),  # Oct 1 extended
    ],
)
def test_2026_deadlines(cal, start, spec, due):
    assert cal.resolve(spec, start) == due


# overrides and the fallback beyond the package ---------------------------------------------------


def test_overrides_beat_the_package():
    closure_and_extra_day = {date(2025, 10, 11): False, date(2025, 10, 8): True}
    cal = WorkingCalendar(closure_and_extra_day)
    assert not cal.is_working_day(date(2025, 10, 11))
    assert cal.is_working_day(date(2025, 10, 8))
    assert cal.resolve("working_days(2)", local(2025, 9, 30)) == end_of(2025, 10, 9)
    assert cal.resolve("statutory_days(10)", local(2025, 10, 1)) == end_of(2025, 10, 13)


def test_override_closure_on_a_weekday_counts_as_a_holiday():
    cal = WorkingCalendar({date(2025, 7, 7): False})  # local closure on a Monday
    assert cal.resolve("working_days(2)", local(2025, 7, 4)) == end_of(2025, 7, 9)
    assert cal.statutory_days(local(2025, 7, 2), 5, extend_on_weekend=False) == end_of(2025, 7, 8)


def test_package_data_horizon():
    assert covers_year(2004) and covers_year(2025) and covers_year(2026)
    assert not covers_year(2027)
    assert not WorkingCalendar.covers_year(2003)


def test_fallback_beyond_the_package_is_weekdays_minus_fixed_holidays(cal):
    assert not cal.is_working_day(date(2027, 1, 1))  # Friday, 元旦
    assert not cal.is_working_day(date(2027, 1, 2))  # Saturday
    assert cal.is_working_day(date(2027, 1, 4))
    assert not any(cal.is_working_day(date(2027, 10, d)) for d in (1, 2, 3))  # Fri, Sat, Sun
    assert cal.is_working_day(date(2027, 10, 4))  # the real arrangement is not known yet
    assert not cal.is_working_day(date(2028, 5, 1))  # a Monday
    assert cal.is_working_day(date(2027, 2, 8))  # Spring Festival is lunar: not in the fallback


def test_overrides_supply_an_unpublished_year():
    spring_festival_2027 = {date(2027, 2, d): False for d in range(5, 12)}
    cal = WorkingCalendar(spring_festival_2027)
    assert cal.resolve("working_days(1)", local(2027, 2, 4)) == end_of(2027, 2, 12)
    assert cal.resolve("statutory_days(2)", local(2027, 2, 3)) == end_of(2027, 2, 12)


def test_statutory_extension_can_ignore_weekends(cal):
    saturday = cal.statutory_days(local(2025, 3, 20), 30, extend_on_weekend=False)
    assert saturday == end_of(2025, 4, 19)
    # 清明 (Fri Apr 4 - Sun Apr 6) is a statutory holiday either way
    qingming = cal.statutory_months(local(2025, 3, 4), 1, extend_on_weekend=False)
    assert qingming == end_of(2025, 4, 7)


# warn_at: 75 % of the period in its own unit (docs/calendar.md) ------------------------------------


@pytest.mark.parametrize(
    ("start", "spec", "warn"),
    [
        (local(2025, 10, 1, 9, 30), "PT2H", local(2025, 10, 1, 11, 0)),
        (local(2025, 3, 3, 10, 20), "PT24H", local(2025, 3, 4, 4, 20)),
        (local(2025, 7, 4, 16), "working_days(2)", local(2025, 7, 8, 12)),  # 12:00 of WD 2
        (local(2025, 9, 30), "working_days(2)", local(2025, 10, 10, 12)),
        (local(2025, 7, 4), "working_days(4)", end_of(2025, 7, 9)),  # 24:00 of WD 3
        (local(2025, 7, 4), "working_days(1)", local(2025, 7, 7, 18)),
        (local(2025, 3, 20), "statutory_days(30)", local(2025, 4, 12, 12)),  # 23rd day
        (local(2025, 6, 16), "statutory_days(60)", end_of(2025, 7, 31)),  # day 45
        (local(2025, 3, 4), "statutory_months(1)", local(2025, 3, 28, 6)),  # 75% of 31 days
        (local(2025, 9, 30, 14), "P15D", local(2025, 10, 11, 20)),  # 270 h
        (local(2025, 9, 29), "2025-10-10T00:00:00+08:00", local(2025, 10, 7, 6)),
    ],
)
def test_warn_at_is_75_percent_in_the_periods_own_unit(cal, start, spec, warn):
    assert cal.warn_at(spec, start) == warn
    assert start < cal.warn_at(spec, start) < cal.resolve(spec, start)


def test_warn_at_for_a_past_instant_is_the_instant(cal):
    assert cal.warn_at("2025-01-01T00:00:00+08:00", local(2025, 3, 1)) == local(2025, 1, 1)


# invalid specs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("P2H", "T 之后"),  # hours without T: months-vs-hours confusion
        ("P", "不能为零"),
        ("PT", "无效"),
        ("P0D", "不能为零"),
        ("PT0H0M", "不能为零"),
        ("PT1.5H", "无效"),
        ("P1W2D", "无效"),
        ("pt2h", "无法识别"),
        ("working_days(0)", "1 到"),
        ("statutory_days(99999)", "1 到"),
        ("working_days(-1)", "无法识别"),
        ("working_days(2", "无法识别"),
        ("business_days(2)", "无法识别"),
        ("2025-10-10T00:00:00", "时区偏移"),
        ("2025-10-10", "时区偏移"),
        ("", "非空"),
    ],
)
def test_check_spec_rejects_invalid_specs(spec, message):
    with pytest.raises(ValueError, match=message):
        check_spec(spec)


@pytest.mark.parametrize(
    "spec",
    [
        "PT2H",
        "PT24H",
        "P15D",
        "P1M",
        "P1Y2M3DT4H5M6S",
        "P2W",
        " working_days(2) ",
        "statutory_days(30)",
        "statutory_months(12)",
        "2025-10-10T00:00:00+08:00",
    ],
)
def test_check_spec_accepts_valid_specs(spec):
    assert check_spec(spec) == spec.strip()


def test_naive_start_is_refused(cal):
    with pytest.raises(ValueError, match="带时区"):
        cal.resolve("PT2H", datetime(2025, 1, 1, 9))


def test_non_positive_counts_are_refused_in_direct_calls(cal):
    with pytest.raises(ValueError, match="正整数"):
        cal.working_days(local(2025, 1, 1), 0)


def test_a_calendar_asked_again_and_again_answers_as_a_fresh_one():
    """Days and deadlines are kept per calendar: a long-lived one (the server's) must give what
    a calendar made for the one question gives, overrides and unpublished years included."""
    overrides = {date(2025, 10, 11): False, date(2025, 10, 12): True, date(2026, 1, 5): False}
    kept = WorkingCalendar(overrides)
    specs = ["working_days(1)", "working_days(3)", "working_days(20)", "statutory_days(15)",
             "statutory_months(1)"]
    starts = [local(2025, 9, 25, 9) + timedelta(days=d, hours=7 * d) for d in range(0, 130, 3)]
    starts += [local(2099, 12, 28, 9), local(2099, 12, 30, 23)]   # beyond the package's data
    for _ in range(2):
        for start in starts:
            for spec in specs:
                fresh = WorkingCalendar(overrides)
                assert kept.resolve(spec, start) == fresh.resolve(spec, start), (spec, start)
                assert kept.warn_at(spec, start) == WorkingCalendar(overrides).warn_at(spec, start)
            day = start.date()
            assert kept.is_working_day(day) == WorkingCalendar(overrides).is_working_day(day)
            assert kept.is_statutory_holiday(start) == \
                WorkingCalendar(overrides).is_statutory_holiday(start)
    assert kept.is_working_day(date(2025, 10, 12)) and not kept.is_working_day(date(2026, 1, 5))
