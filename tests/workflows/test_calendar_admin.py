"""Calendar overrides: audited, superseded not deleted, applied to new deadlines only."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from tests.workflows import sched_support as S
from workflows.core.actors import Actor
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.deadlines import calendar_admin as C
from workflows.replay.engine import AsOfCalendar

CLERK = Actor(type="user", id="2", username="clerk", roles=frozenset({"intake_clerk"}))
SH = "+08:00"


@pytest.fixture
def admin(services):
    return S.user(services, "admin", "admin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + SH).astimezone(UTC)


def test_a_local_closure_moves_new_working_day_deadlines(services, admin):
    before = services.calendar.resolve("working_days(1)", at("2025-03-07T10:00"))
    assert before == at("2025-03-11T00:00")
    C.add_override(services.new_uow(), admin, day=date(2025, 3, 10), kind="holiday",
                   reason="区政府临时停电闭馆")
    assert services.calendar.resolve("working_days(1)", at("2025-03-07T10:00")) == \
        at("2025-03-12T00:00")
    [changed] = S.events(services, "calendar_changed")
    payload = json.loads(changed.payload)
    assert (payload["day"], payload["before"], payload["after"]) == ("2025-03-10", None, "holiday")
    assert payload["statutory_working_day"] is True and changed.actor_id == admin.id


def test_only_admins_edit_the_calendar_and_a_reason_is_required(services, admin):
    with pytest.raises(NotPermitted):
        C.add_override(services.new_uow(), CLERK, day=date(2025, 3, 10), kind="holiday",
                       reason="x")
    with pytest.raises(InvalidInput) as errors:
        C.add_override(services.new_uow(), admin, day=date(2025, 3, 10), kind="vacation",
                       reason="")
    assert set(errors.value.field_errors) == {"kind", "reason"}


def test_overrides_are_superseded_and_the_old_calendar_can_be_rebuilt(services, admin, clock):
    clock.set(at("2025-03-01T09:00"))
    C.add_override(services.new_uow(), admin, day=date(2025, 3, 15), kind="workday",
                   reason="补班")
    clock.set(at("2025-03-05T09:00"))
    C.add_override(services.new_uow(), admin, day=date(2025, 3, 15), kind="holiday",
                   reason="取消补班")
    with services.session_factory() as session:
        assert [o.kind for o in C.active_overrides(session, 2025)] == ["holiday"]
        assert [o.kind for o in C.override_history(session, 2025)] == ["workday", "holiday"]
        as_of = AsOfCalendar.load(session, services.settings.timezone).at  # what a replay uses
        assert as_of(at("2025-03-03T00:00")).is_working_day(date(2025, 3, 15))
        assert not as_of(at("2025-03-06T00:00")).is_working_day(date(2025, 3, 15))
    C.withdraw_override(services.new_uow(), admin, day=date(2025, 3, 15), reason="恢复国家安排")
    with services.session_factory() as session:
        assert C.active_overrides(session, 2025) == []
        assert len(C.override_history(session, 2025)) == 2
    assert [json.loads(e.payload)["after"] for e in S.events(services, "calendar_changed")] == [
        "workday", "holiday", None]


def test_armed_timers_keep_their_due_time_new_ones_use_the_new_calendar(services, admin, clock):
    S.deploy(services, "labour_mediation.bpmn")
    clock.set(at("2025-03-10T09:30"))
    armed, _ = S.start(services, "labour_mediation")
    C.add_override(services.new_uow(), admin, day=date(2025, 3, 25), kind="holiday",
                   reason="测试：第15日闭馆")
    fresh, _ = S.start(services, "labour_mediation")
    assert S.row(services, armed).due_at == at("2025-03-26T00:00")
    assert S.row(services, fresh).due_at == at("2025-03-27T00:00")   # last day moved on


def test_year_days_lists_holidays_and_make_up_days(services):
    days = C.year_days(services.calendar.calendar, 2025)
    assert date(2025, 10, 11) in days["makeup_workdays"]
    assert date(2025, 10, 8) in days["holidays"] and date(2025, 4, 4) in days["holidays"]
