"""SLA sweep isolation: one failing case neither stops the later cases nor
makes the sweep re-run every 100 ms; it backs off 1/5/25 minutes and becomes an incident."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from tests.workflows import sched_support as S
from workflows.casework import incidents
from workflows.core.actors import Actor
from workflows.core.errors import NotFound
from workflows.deadlines import sla
from workflows.models import Case, SlaClock
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.models.sla_failures import SlaCheckFailure
from workflows.scheduler import jobs, sla_sweep

HANDLER = Actor(type="user", id="11", username="handler", roles=frozenset({"dept_handler"}))
SUPERVISOR = Actor(type="user", id="12", username="sup", roles=frozenset({"supervisor"}))
START = datetime(2025, 7, 4, 0, 40, tzinfo=UTC)          # Fri 08:40 in Beijing
WARNED = datetime(2025, 7, 8, 4, 0, tzinfo=UTC)          # Tue 12:00: every clock warns


@pytest.fixture
def three_cases(services, clock):
    """Three cases with a first-contact clock; the middle one's check raises."""
    clock.set(START)
    ids = []
    for _ in range(3):
        case_id = S.case(services, urgency="general", tier="district")
        with services.new_uow() as uow:
            sla.start_clock(uow, HANDLER, uow.session.get(Case, case_id), "first_contact",
                            "working_days(2)")
            uow.commit()
        ids.append(case_id)
    return ids


@pytest.fixture
def poisoned(monkeypatch, three_cases):
    bad = three_cases[1]
    original = sla_sweep._check_clock

    def check(uow, case, clock, now):
        if case.id == bad:
            raise RuntimeError("poisoned clock")
        original(uow, case, clock, now)

    monkeypatch.setattr(sla_sweep, "_check_clock", check)
    return bad


def _warned(services, case_id) -> datetime | None:
    with services.session_factory() as session:
        return session.scalars(select(SlaClock.warned_at).where(SlaClock.case_id == case_id)).one()


def _failure(services, case_id) -> SlaCheckFailure | None:
    with services.session_factory() as session:
        return session.get(SlaCheckFailure, case_id)


def test_one_failing_case_does_not_stop_the_later_ones(services, clock, three_cases, poisoned):
    clock.set(WARNED)
    assert sla_sweep.sweep_sla(services) == 2
    first, bad, last = three_cases
    assert _warned(services, first) == WARNED and _warned(services, last) == WARNED
    assert _warned(services, bad) is None
    failure = _failure(services, bad)
    assert failure.attempts == 1 and "poisoned clock" in failure.last_error
    assert failure.retry_at == WARNED + timedelta(minutes=1)


def test_failing_case_backs_off_then_becomes_an_incident(services, clock, three_cases, poisoned):
    clock.set(WARNED)
    sla_sweep.sweep_sla(services)
    clock.advance(seconds=30)
    assert sla_sweep.due_cases(services, clock.now()) == []          # held: no hot loop
    assert sla_sweep.next_check_at(services) == WARNED + timedelta(minutes=1)  # its retry time
    assert jobs.next_run(services, clock.now()) == clock.now() + timedelta(seconds=1)  # max sleep
    for back_off, attempts in ((1, 2), (5, 3)):
        retry = _failure(services, poisoned).retry_at
        assert retry == _failure(services, poisoned).failed_at + timedelta(minutes=back_off)
        clock.set(retry)
        sla_sweep.sweep_sla(services)
        assert _failure(services, poisoned).attempts == attempts
    failure = _failure(services, poisoned)
    assert failure.retry_at is None                             # an incident: no more retries
    raised = S.events(services, "incident_raised", poisoned)
    assert [e.object_type for e in raised] == ["sla"]
    assert json.loads(raised[0].payload)["attempts"] == 3
    with services.session_factory() as session:
        notices = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "sla_incident")).all()
    assert [(n.recipient_type, n.recipient_id) for n in notices] == [("role", "supervisor")]
    clock.advance(hours=1)
    assert poisoned not in sla_sweep.due_cases(services, clock.now())
    assert jobs.next_run(services, clock.now()) > clock.now() + jobs.MIN_IDLE_SLEEP


def test_supervisor_retry_brings_a_repaired_case_back(services, clock, three_cases, poisoned,
                                                      monkeypatch):
    clock.set(WARNED)
    for _ in range(3):
        sla_sweep.sweep_sla(services)
        retry = _failure(services, poisoned).retry_at
        if retry:
            clock.set(retry)
    district = Actor(type="user", id="12", username="sup", roles=frozenset({"supervisor"}),
                     department_id=S.department(services, "ZX"))
    with services.session_factory() as session:
        assert [i["case_id"] for i in incidents.sla_incidents(session, district)] == [poisoned]
        assert incidents.sla_incidents(session, HANDLER) == []   # not in the handler's scope
    monkeypatch.undo()                                           # the bug is fixed
    incidents.retry_sla_check(services.new_uow(), SUPERVISOR, poisoned)
    assert sla_sweep.sweep_sla(services) == 1
    assert _warned(services, poisoned) == clock.now() and _failure(services, poisoned) is None
    assert S.events(services, "incident_retried", poisoned)
    with pytest.raises(NotFound):
        incidents.retry_sla_check(services.new_uow(), SUPERVISOR, poisoned)


def test_a_check_that_succeeds_after_a_failure_clears_the_back_off(services, clock, three_cases,
                                                                   poisoned, monkeypatch):
    clock.set(WARNED)
    sla_sweep.sweep_sla(services)
    monkeypatch.undo()
    clock.advance(minutes=1)
    assert sla_sweep.sweep_sla(services) == 1
    assert _failure(services, poisoned) is None


def test_an_overdue_unanswered_notice_does_not_make_the_sweep_spin(services, clock):
    """Before: reply_due_at <= now kept the case due and next_run at now + 100 ms forever."""
    clock.set(START)
    dept = S.department(services, "ZJ")
    case_id = S.case(services, urgency="general", tier="district", lead_department_id=dept)
    order_id = S.add_order(services, case_id, dept)
    with services.new_uow() as uow:
        uow.session.add(SupervisionNotice(
            case_id=case_id, work_order_id=order_id, department_id=dept, level=1,
            kind="supervision", reason="超时", source="test", issued_at=START,
            issued_by="scheduler", reply_due_at=START + timedelta(days=1), dedupe_key="n1"))
        uow.commit()
    clock.set(START + timedelta(days=1, minutes=1))
    assert case_id in sla_sweep.due_cases(services, clock.now())
    sla_sweep.sweep_sla(services)                                      # the light takes the deadline in
    with services.session_factory() as session:
        assert session.get(WorkOrderSla, order_id).checked_at == clock.now()
    assert case_id not in sla_sweep.due_cases(services, clock.now())
    nxt = sla_sweep.next_check_at(services)
    assert nxt is None or nxt > clock.now()
    assert jobs.next_run(services, clock.now()) > clock.now() + jobs.MIN_IDLE_SLEEP
