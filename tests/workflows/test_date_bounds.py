"""Typed dates have sane bounds; ages computed from dates are never negative."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.forms import FormField
from engine.instance import TaskView
from workflows.casework.tasks import validate
from workflows.core.actors import SYSTEM
from workflows.core.dates import elapsed_days, past_day_error, plan_day_error
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.core.settings import Settings
from workflows.deadlines import calendar_admin

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # 09:00 in Beijing
SETTINGS = Settings()
VIEW = TaskView(id="1", bpmn_id="sign", name="签订协议", lane=None, process_id="p", data={},
                form=[FormField(id="agreement_effective_date", type="date", label="协议生效日期")])


def _refused(day: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        validate(VIEW, {"agreement_effective_date": day}, now=NOW, settings=SETTINGS)
    return refused.value.field_errors["agreement_effective_date"].code


def test_task_form_date_records_what_happened():
    assert validate(VIEW, {"agreement_effective_date": "2025-03-03"}, now=NOW,
                    settings=SETTINGS) == {"agreement_effective_date": "2025-03-03"}
    assert _refused("2025-03-04") == ErrorCode.DATE_IN_FUTURE
    assert _refused("2099-01-01") == ErrorCode.DATE_IN_FUTURE
    assert _refused("9999-12-31") == ErrorCode.DATE_IN_FUTURE
    assert _refused("1999-12-31") == ErrorCode.DATE_BEFORE_FLOOR
    assert _refused("0001-01-01") == ErrorCode.DATE_BEFORE_FLOOR


def test_today_is_the_local_day_and_the_floor_is_a_setting():
    late_evening = datetime(2025, 3, 3, 15, 58, tzinfo=UTC)  # 23:58 in Beijing, skew 5 min
    assert past_day_error(date(2025, 3, 4), late_evening, SETTINGS) is None
    assert past_day_error(date(2025, 3, 4), NOW, SETTINGS).params == {"latest": "2025-03-03"}
    older = replace(SETTINGS, date_floor="1990-01-01")
    assert past_day_error(date(1995, 6, 1), NOW, older) is None
    with pytest.raises(ValueError):
        Settings(date_floor="not a date")


def test_calendar_days_plan_ahead_but_not_forever():
    assert plan_day_error(date(2027, 12, 31), NOW, SETTINGS) is None
    assert plan_day_error(date(2028, 1, 1), NOW, SETTINGS).code == ErrorCode.DATE_TOO_FAR
    assert plan_day_error(date(1999, 1, 1), NOW, SETTINGS).code == ErrorCode.DATE_BEFORE_FLOOR


def test_calendar_override_refuses_an_absurd_day(services):
    with pytest.raises(InvalidInput) as refused:
        calendar_admin.add_override(services.new_uow(), SYSTEM, day=date(9999, 1, 1),
                                    kind="holiday", reason="调休")
    assert refused.value.field_errors["day"].code == ErrorCode.DATE_TOO_FAR


def test_ages_are_never_negative():
    assert elapsed_days(NOW + timedelta(days=3), NOW) == 0
    assert elapsed_days(NOW - timedelta(days=3, hours=1), NOW) == 3


def test_report_durations_of_cases_with_extreme_dates_are_never_negative():
    """A case closed before it was opened (a clock that ran ahead at intake) counts as closed
    the same day; one opened at the floor shows its real cycle, not years of nonsense."""
    from types import SimpleNamespace

    from workflows.reports.data import _kpis

    ahead = SimpleNamespace(outcome="R1", satisfaction=None, second_complaint=False,
                            opened_at=NOW + timedelta(days=400), closed_at=NOW)
    old = SimpleNamespace(outcome="R1", satisfaction=None, second_complaint=False,
                          opened_at=datetime(2000, 1, 1, tzinfo=UTC),
                          closed_at=datetime(2000, 1, 11, tzinfo=UTC))
    order = SimpleNamespace(accepted_at=NOW - timedelta(hours=5), dispatched_at=NOW,
                            completed_at=None, due_at=None)
    figures = _kpis([ahead, old], [(order, None, None)])
    assert figures["K-08"] == 5.0     # (0 + 10) / 2
    assert figures["K-05"] == 0.0
