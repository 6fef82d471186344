"""Timeliness lights, the escalation ladder, SLA clocks with suspension/extension, risk colours."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.deadlines import WorkingCalendar
from engine.models import OutboxMessage
from tests.workflows import sched_support as S
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotPermitted
from workflows.deadlines import escalation, sla
from workflows.deadlines.lights import light_of, make_limit
from workflows.models import Case, Light, SlaClock, WorkOrder
from workflows.models.scheduling import SlaRequest, SupervisionNotice
from workflows.scheduler import sla_sweep, timers

SH = "+08:00"
CAL = WorkingCalendar()
HANDLER = Actor(type="user", id="11", username="handler", roles=frozenset({"dept_handler"}))
SUPERVISOR = Actor(type="user", id="12", username="sup", roles=frozenset({"supervisor"}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + SH).astimezone(UTC)


# -- the light rules ----------------------------------------------------------------------------
def test_two_hour_limit_warns_at_75_percent_then_breaches_then_goes_red_after_3_working_days():
    limit = make_limit(CAL, "response", at("2025-03-10T09:30"), at("2025-03-10T11:30"), None)
    light = lambda when: light_of([limit], at(when), breaches=0, unanswered=False)  # noqa: E731
    assert light("2025-03-10T10:59:59") == Light.GREEN
    assert light("2025-03-10T11:00") == Light.YELLOW          # 1 h 30 min = 75 % of 2 h
    assert light("2025-03-10T11:30") == Light.ORANGE
    assert light("2025-03-13T23:59:59") == Light.ORANGE       # Tue, Wed, Thu overdue: 3 WD
    assert light("2025-03-14T00:00") == Light.RED


def test_more_than_3_working_days_overdue_skips_the_national_day_holiday():
    limit = make_limit(CAL, "handling", at("2025-09-25T00:00"), at("2025-09-30T17:00"), None)
    assert limit.red == at("2025-10-12T00:00")        # Oct 1-8 off; 9, 10, Sat 11 (make-up)
    assert light_of([limit], at("2025-10-11T12:00"), breaches=1, unanswered=False) == Light.ORANGE


def test_a_day_closed_later_moves_the_red_instant_of_a_limit_already_computed():
    # Friday 2025-07-04: red after Mon, Tue, Wed; with Monday closed by the district, after Thu
    due = at("2025-07-04T17:00")
    before = make_limit(CAL, "handling", at("2025-07-01T09:00"), due, None)
    closed = WorkingCalendar({date(2025, 7, 7): False})
    after = make_limit(closed, "handling", at("2025-07-01T09:00"), due, None)
    assert before.red == at("2025-07-10T00:00") and after.red == at("2025-07-11T00:00")
    assert make_limit(CAL, "handling", at("2025-07-01T09:00"), due, None).red == before.red


def test_repeated_breach_or_an_unanswered_notice_is_red_and_a_met_limit_is_not_yellow():
    met = make_limit(CAL, "response", at("2025-03-10T09:30"), at("2025-03-10T11:30"),
                     at("2025-03-10T11:10"))
    now = at("2025-03-10T11:20")
    assert light_of([met], now, breaches=0, unanswered=False) == Light.GREEN
    assert light_of([met], now, breaches=2, unanswered=False) == Light.RED
    assert light_of([met], now, breaches=0, unanswered=True) == Light.RED
    late = make_limit(CAL, "response", at("2025-03-10T09:30"), at("2025-03-10T11:30"),
                      at("2025-03-10T12:00"))
    assert light_of([late], now + timedelta(hours=2), breaches=1, unanswered=False) == Light.ORANGE


# -- C03 through the SLA sweep ------------------------------------------------------------------
@pytest.fixture
def c03(services, clock):
    """C03: urgent collective wage arrears, lead 人社 dispatched Mon 2025-03-10 09:30 (PT2H), in a
    deployment whose processes have no ladder of their own (JIEFEN_LIGHT_LADDER=true)."""
    services.settings = dataclasses.replace(services.settings, light_ladder=True)
    clock.set(at("2025-03-10T09:30"))
    dept = S.department(services, "RS")
    case_id = S.case(services, urgency="urgent", risk_level="orange", tier="street",
                     category="labour", people_count=14, lead_department_id=dept)
    order_id = S.add_order(services, case_id, dept)
    return services, case_id, order_id


def _sweep(services, clock, when: str) -> int:
    clock.set(at(when))
    return sla_sweep.sweep_sla(services)


def _ladder(services, case_id):
    with services.session_factory() as session:
        notices = session.scalars(select(SupervisionNotice).where(
            SupervisionNotice.case_id == case_id).order_by(SupervisionNotice.id)).all()
        outbox = session.scalars(select(OutboxMessage.template).where(
            OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)).all()
    return [(n.level, n.kind) for n in notices], list(outbox)


def _order(services, order_id) -> WorkOrder:
    with services.session_factory() as session:
        return session.get(WorkOrder, order_id)


def test_c03_response_breach_reminder_then_supervision_then_tier_upgrade_once_each(c03, clock):
    services, case_id, order_id = c03
    assert _sweep(services, clock, "2025-03-10T09:30") == 1      # first sight: watch armed
    assert _order(services, order_id).light == "green"
    for when in ("2025-03-10T11:00", "2025-03-10T11:05"):
        _sweep(services, clock, when)
    assert _order(services, order_id).light == "yellow"
    assert _ladder(services, case_id) == ([(0, "reminder")], ["sla_reminder"])
    for when in ("2025-03-10T11:30", "2025-03-10T15:00", "2025-03-11T23:59"):
        _sweep(services, clock, when)
    assert _order(services, order_id).light == "orange"
    notice = _ladder(services, case_id)
    assert notice == ([(0, "reminder"), (1, "supervision")], ["sla_reminder",
                                                              "supervision_notice"])
    for when in ("2025-03-12T00:00:01", "2025-03-12T09:00"):   # 督办 reply (1 WD) not received
        _sweep(services, clock, when)
    assert _order(services, order_id).light == "red"
    levels, outbox = _ladder(services, case_id)
    assert levels == [(0, "reminder"), (1, "supervision"), (2, "upgrade")]
    assert outbox == ["sla_reminder", "supervision_notice", "tier_upgraded", "tier_upgraded"]
    with services.session_factory() as session:
        case = session.get(Case, case_id)
    assert case.tier == "district" and case.risk_level == "orange"
    upgraded = S.events(services, "tier_upgraded", case_id)
    assert len(upgraded) == 1 and json.loads(upgraded[0].payload)["before"] == "street"
    lights = [json.loads(e.payload)["after"] for e in S.events(services, "light_changed", case_id)]
    assert lights == ["yellow", "orange", "red"]


def test_by_default_lights_are_shown_and_the_ladder_is_left_to_the_process(c03, clock):
    services, case_id, order_id = c03
    services.settings = dataclasses.replace(services.settings, light_ladder=False)
    for when in ("2025-03-10T09:30", "2025-03-10T11:00", "2025-03-10T11:31", "2025-03-14T00:01"):
        _sweep(services, clock, when)
    assert _order(services, order_id).light == "red"
    assert _ladder(services, case_id) == ([], [])
    lights = [json.loads(e.payload)["after"] for e in S.events(services, "light_changed", case_id)]
    assert lights == ["yellow", "orange", "red"]


def test_supervision_notice_carries_a_one_working_day_reply_deadline(c03, clock):
    services, case_id, _ = c03
    _sweep(services, clock, "2025-03-10T09:30")
    _sweep(services, clock, "2025-03-10T11:31")
    with services.session_factory() as session:
        notice = session.scalars(select(SupervisionNotice).where(
            SupervisionNotice.level == 1)).one()
        body = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "supervision_notice")).one()
    assert notice.reply_due_at == at("2025-03-12T00:00")       # 24:00 of Tue 2025-03-11
    assert body.params["reply_by"] == "2025-03-12 00:00" and body.params["due"] == "2025-03-10 11:30"
    assert body.recipient_type == "department"


def test_an_answered_notice_delays_red_until_3_working_days_overdue(c03, clock):
    services, case_id, order_id = c03
    _sweep(services, clock, "2025-03-10T09:30")
    _sweep(services, clock, "2025-03-10T11:31")
    with services.session_factory() as session:
        notice_id = session.scalar(select(SupervisionNotice.id).where(SupervisionNotice.level == 1))
    escalation.reply_to_notice(services.new_uow(), HANDLER, notice_id, note="工人名册核对中，周四前签收")
    _sweep(services, clock, "2025-03-12T09:00")
    assert _order(services, order_id).light == "orange"
    _sweep(services, clock, "2025-03-14T00:00:01")
    assert _order(services, order_id).light == "red"
    upgrade = S.events(services, "supervision_issued", case_id)[-1]
    assert json.loads(upgrade.payload)["reason"] == "超期超过3个工作日"


def test_signing_off_in_time_keeps_the_light_green_and_sends_nothing(c03, clock):
    services, case_id, order_id = c03
    _sweep(services, clock, "2025-03-10T09:30")
    with services.new_uow() as uow:
        order = uow.session.get(WorkOrder, order_id)
        order.status, order.accepted_at = "accepted", at("2025-03-10T10:40")
        uow.commit()
    _sweep(services, clock, "2025-03-10T11:45")
    assert _order(services, order_id).light == "green"
    assert _ladder(services, case_id) == ([], [])


def test_a_new_order_is_picked_up_once_and_an_idle_sweep_reads_no_open_order(c03, clock):
    """A dispatched order is found by the sweep before any light exists; once watched it is not
    found again, and a closed order never was (the partial index holds only open unwatched ones)."""
    services, case_id, order_id = c03
    clock.set(at("2025-03-10T09:30"))
    assert sla_sweep.due_cases(services, clock.now()) == [case_id]
    assert sla_sweep.sweep_sla(services) == 1
    assert _order(services, order_id).sla_watched is True
    clock.set(at("2025-03-10T09:31"))
    assert sla_sweep.due_cases(services, clock.now()) == []   # nothing due until the 75 % mark
    done = S.add_order(services, case_id, S.department(services, "ZJ"))
    with services.new_uow() as uow:
        uow.session.get(WorkOrder, done).status = "done"
        uow.commit()
    assert sla_sweep.due_cases(services, clock.now()) == []


def test_red_case_risk_with_a_red_light_reaches_leadership(c03, clock):
    services, case_id, _ = c03
    with services.new_uow() as uow:
        escalation.raise_risk(uow, SUPERVISOR, uow.session.get(Case, case_id), "red",
                              reason="扬言堵门", trigger="threat")
        uow.commit()
    for when in ("2025-03-10T09:30", "2025-03-10T11:31", "2025-03-14T00:00:01"):
        _sweep(services, clock, when)
    levels, outbox = _ladder(services, case_id)
    assert [level for level, _ in levels] == [0, 1, 2, 3]
    assert outbox.count("leadership") == 1


def test_tier_upgrade_sticks_when_the_workflow_projection_runs_again(services, clock):
    S.deploy(services, "simple.bpmn")
    dept = S.department(services, "RS")
    instance_id, case_id = S.start(services, tier="street", urgency="urgent",
                                   lead_department_id=dept)
    with services.new_uow() as uow:
        escalation.escalate(uow, uow.session.get(Case, case_id), level=2, source="test",
                            reason="测试提级", limit_due=clock.now())
        uow.commit()
    clock.advance(hours=3)
    assert timers.sweep(services).fired == 1          # project_case runs in the sweep
    with services.session_factory() as session:
        assert session.get(Case, case_id).tier == "district"


# -- SLA clocks --------------------------------------------------------------------------------
def _clock_row(services, case_id, kind="first_contact") -> SlaClock:
    with services.session_factory() as session:
        return session.scalars(select(SlaClock).where(SlaClock.case_id == case_id,
                                                      SlaClock.kind == kind)).one()


@pytest.fixture
def c02(services, clock):
    """C02: accepted Fri 2025-07-04 08:40; first contact within 2 working days (T-02)."""
    clock.set(at("2025-07-04T08:40"))
    case_id = S.case(services, urgency="general", tier="district")
    with services.new_uow() as uow:
        sla.start_clock(uow, HANDLER, uow.session.get(Case, case_id), "first_contact",
                        "working_days(2)")
        uow.commit()
    return services, case_id


def test_first_contact_clock_warns_at_noon_of_the_second_working_day_and_breaches_at_24h(
        c02, clock):
    services, case_id = c02
    row = _clock_row(services, case_id)
    assert (row.warn_at, row.due_at) == (at("2025-07-08T12:00"), at("2025-07-09T00:00"))
    _sweep(services, clock, "2025-07-08T11:59")
    assert _clock_row(services, case_id).warned_at is None
    _sweep(services, clock, "2025-07-08T12:00")
    assert _clock_row(services, case_id).warned_at == at("2025-07-08T12:00")
    _sweep(services, clock, "2025-07-09T00:00")
    assert _clock_row(services, case_id).breached_at == at("2025-07-09T00:00")
    assert [e for e, _ in [(json.loads(x.payload)["event"], 0) for x in
                           S.events(services, "sla_changed", case_id)]] == [
        "started", "warned", "breached"]
    assert _ladder(services, case_id)[0] == [(0, "reminder"), (1, "supervision")]


def test_stopping_the_clock_in_time_prevents_any_escalation(c02, clock):
    services, case_id = c02
    clock.set(at("2025-07-07T15:00"))
    with services.new_uow() as uow:
        sla.stop_clock(uow, HANDLER, uow.session.get(Case, case_id), "first_contact")
        uow.commit()
    _sweep(services, clock, "2025-07-10T09:00")
    assert _clock_row(services, case_id).breached_at is None
    assert _ladder(services, case_id) == ([], [])


def test_extension_is_requested_with_a_reason_approved_by_a_supervisor_and_capped(c02, clock):
    services, case_id = c02
    with services.new_uow() as uow:
        case = uow.session.get(Case, case_id)
        with pytest.raises(InvalidInput) as missing:
            sla.request_change(uow, HANDLER, case, "first_contact", request_kind="extend",
                               reason=" ", extension="working_days(2)")
        assert set(missing.value.field_errors) == {"reason"}
        request = sla.request_change(uow, HANDLER, case, "first_contact", request_kind="extend",
                                     reason="当事人出差，周五返回", extension="working_days(2)")
        uow.commit()
    with services.new_uow() as uow, pytest.raises(NotPermitted):
        sla.decide_request(uow, HANDLER, request.id, approve=True)
    self_approver = Actor(type="user", id="11", roles=frozenset({"supervisor"}))
    with services.new_uow() as uow, pytest.raises(NotPermitted):
        sla.decide_request(uow, self_approver, request.id, approve=True)
    with services.new_uow() as uow:
        sla.decide_request(uow, SUPERVISOR, request.id, approve=True, note="同意")
        uow.commit()
    assert _clock_row(services, case_id).due_at == at("2025-07-11T00:00")  # Wed 9 + Thu 10
    with services.new_uow() as uow:
        again = sla.request_change(uow, HANDLER, uow.session.get(Case, case_id), "first_contact",
                                   request_kind="extend", reason="再次申请",
                                   extension="working_days(1)")
        uow.commit()
    with services.new_uow() as uow, pytest.raises(InvalidInput) as capped:
        sla.decide_request(uow, SUPERVISOR, again.id, approve=True)
    assert capped.value.field_errors["extension"] == FieldError(ErrorCode.TOO_MANY_EXTENSIONS,
                                                                {"limit": sla.MAX_EXTENSIONS})
    decided = S.events(services, "sla_decided", case_id)
    assert len(decided) == 1 and json.loads(decided[0].payload)["approved"] is True
    assert decided[0].actor_id == "12"


def test_an_extension_longer_than_the_original_period_is_refused(c02, clock):
    services, case_id = c02
    with services.new_uow() as uow:
        request = sla.request_change(uow, HANDLER, uow.session.get(Case, case_id),
                                     "first_contact", request_kind="extend", reason="材料多",
                                     extension="working_days(10)")
        uow.commit()
    with services.new_uow() as uow, pytest.raises(InvalidInput):
        sla.decide_request(uow, SUPERVISOR, request.id, approve=True)


def test_approved_suspension_pauses_the_clock_and_resuming_moves_the_deadline(c02, clock):
    services, case_id = c02
    with services.new_uow() as uow:
        request = sla.request_change(uow, HANDLER, uow.session.get(Case, case_id),
                                     "first_contact", request_kind="suspend",
                                     reason="等待司法鉴定结果")
        uow.commit()
    clock.set(at("2025-07-07T09:00"))
    with services.new_uow() as uow:
        sla.decide_request(uow, SUPERVISOR, request.id, approve=True)
        uow.commit()
    _sweep(services, clock, "2025-07-09T09:00")              # paused: no breach
    assert _clock_row(services, case_id).breached_at is None
    clock.set(at("2025-07-10T09:00"))
    with services.new_uow() as uow:
        sla.end_suspension(uow, SUPERVISOR, request.id)
        uow.commit()
    row = _clock_row(services, case_id)
    assert row.paused_at is None and row.paused_seconds == 3 * 86400
    assert row.due_at == at("2025-07-12T00:00")
    with services.session_factory() as session:
        assert session.get(SlaRequest, request.id).status == "ended"


def test_a_suspension_ends_by_itself_at_the_cap(c02, clock):
    services, case_id = c02
    with services.new_uow() as uow:
        sla.pause_clock(uow, SUPERVISOR, uow.session.get(Case, case_id), "first_contact",
                        reason="测试")
        uow.commit()
    _sweep(services, clock, "2025-08-03T08:40:01")           # 30 days later
    row = _clock_row(services, case_id)
    assert row.paused_at is None and row.paused_seconds == 30 * 86400
    events = [json.loads(e.payload)["event"] for e in S.events(services, "sla_changed", case_id)]
    assert "suspension_capped" in events


def test_the_sweep_leaves_the_clock_and_its_notices_on_the_case(c02, clock):
    services, case_id = c02
    _sweep(services, clock, "2025-07-09T00:00:01")
    with services.session_factory() as session:
        clocks = session.scalars(select(SlaClock).where(SlaClock.case_id == case_id)).all()
        notices = session.scalars(select(SupervisionNotice).where(
            SupervisionNotice.case_id == case_id).order_by(SupervisionNotice.id)).all()
    assert [c.kind for c in clocks] == ["first_contact"]
    assert [n.level for n in notices] == [0, 1]


# -- risk colours ------------------------------------------------------------------------------
def test_risk_is_raised_by_events_with_who_and_why_audited_and_never_lowered(services):
    case_id = S.case(services, risk_level="blue")
    with services.new_uow() as uow:
        case = uow.session.get(Case, case_id)
        assert escalation.apply_risk_event(uow, SUPERVISOR, case, trigger="group_size",
                                           reason="14 名工人集体讨薪", people=14)
        assert not escalation.apply_risk_event(uow, SUPERVISOR, case, trigger="overdue",
                                               reason="超期", overdue=True)
        assert escalation.apply_risk_event(uow, SUPERVISOR, case, trigger="threat",
                                           reason="扬言明早堵路", threat=True)
        uow.commit()
    changes = S.events(services, "risk_changed", case_id)
    assert [(json.loads(e.payload)["before"], json.loads(e.payload)["after"]) for e in changes] \
        == [("blue", "orange"), ("orange", "red")]
    assert json.loads(changes[1].payload)["reason"] == "扬言明早堵路"
    assert changes[1].actor_id == "12" and changes[1].actor_role == "supervisor"
    assert S.count(services, OutboxMessage, OutboxMessage.template == "risk_raised") == 2


@pytest.mark.parametrize(("facts", "colour"), [
    ({}, "blue"), ({"complex_case": True}, "yellow"), ({"people": 10}, "orange"),
    ({"people": 30}, "red"), ({"threat": True}, "red"),
    ({"second_complaint": True, "complex_case": True}, "orange"), ({"dissatisfied": True}, "yellow"),
])
def test_risk_colour_for_the_facts(facts, colour):
    assert escalation.risk_for(**facts) == colour
