"""Two schedulers on PostgreSQL (each its own Services and connections): every timer, ladder rung
and message happens exactly once, also when a timer races a user completing the same task."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from engine.errors import ConcurrentUpdate
from engine.models import InstanceRow, OutboxMessage
from tests.conftest import PG
from tests.workflows import sched_support as S
from tests.workflows.gateway import Gateway
from workflows.audit.log import verify_chains
from workflows.core.actors import Actor
from workflows.models.scheduling import SupervisionNotice
from workflows.notify import delivery as notifications
from workflows.notify.channels import SmsGatewayChannel
from workflows.runtime.bootstrap import bootstrap
from workflows.scheduler import claims, sla_sweep, timers

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]
MEDIATOR = Actor(type="user", id="5", username="mediator", roles=frozenset({"mediator"}))


@pytest.fixture
def two(committed_services, clock, keyring):
    """Two schedulers: the committed services and a second Services on its own engine."""
    other = bootstrap(committed_services.settings, clock=clock, keyring=keyring)
    yield committed_services, other
    other.db.dispose()


def _together(*jobs):
    """Run the callables in threads released by one barrier; return their results."""
    barrier, results, errors = threading.Barrier(len(jobs)), [None] * len(jobs), []

    def run(index, job):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def test_two_schedulers_fire_every_due_timer_exactly_once(two, clock):
    first, second = two
    S.deploy(first, "simple.bpmn")
    started = [S.start(first) for _ in range(24)]
    clock.advance(hours=2, seconds=1)
    results = _together(lambda: timers.sweep(first), lambda: timers.sweep(second))
    assert sum(r.fired for r in results) == 24
    assert sum(r.failures for r in results) == 0
    fired = Counter(e.case_id for e in S.events(first, "timer_fired"))
    assert fired == Counter({case_id: 1 for _, case_id in started})
    assert timers.sweep(first).fired == 0 and timers.sweep(second).fired == 0
    with first.session_factory() as session:
        assert verify_chains(session, first.keyring).ok


def test_a_claimed_instance_is_skipped_not_waited_for(two, clock):
    first, second = two
    S.deploy(first, "simple.bpmn")
    instance_id, case_id = S.start(first)
    clock.advance(hours=3)
    statements: list[str] = []
    event.listen(second.db, "before_cursor_execute",
                 lambda *args: statements.append(args[2]))
    with first.session_factory() as holder:  # another scheduler is mid-firing this row
        holder.scalars(select(InstanceRow).where(InstanceRow.id == instance_id)
                       .with_for_update()).one()
        # a sweep that waited for the lock would never return while it is held: run it aside and
        # give up long after any machine would have finished (a hang guard, not a measurement)
        fired: list[int] = []
        sweeper = threading.Thread(target=lambda: fired.append(timers.sweep(second).fired))
        sweeper.start()
        sweeper.join(timeout=120)
        assert not sweeper.is_alive(), "the sweep waited for a row another scheduler holds"
        assert fired == [0]
        holder.rollback()
    assert any("FOR UPDATE SKIP LOCKED" in s for s in statements)
    assert timers.sweep(second).fired == 1
    assert len(S.events(first, "timer_fired", case_id)) == 1


def test_timer_first_then_the_user_gets_a_conflict_and_the_chain_has_one_outcome(two, clock):
    first, second = two
    S.deploy(first, "simple.bpmn")
    instance_id, case_id = S.start(first)
    clock.advance(hours=1, minutes=59, seconds=59)
    uow = first.new_uow()
    with uow:
        inst = uow.load_instance(instance_id)
        with uow.recording(inst, MEDIATOR, case=case_id):   # one second before the deadline
            inst.complete(inst.find_ready("mediate").id, {"amount": 5})
        clock.advance(seconds=2)
        assert timers.sweep(second).fired == 1            # the scheduler commits first
        with pytest.raises(ConcurrentUpdate):
            uow.commit()
    assert S.ready(first, instance_id) == ["escalate_review"]
    assert len(S.events(first, "timer_fired", case_id)) == 1
    completed = [e for e in S.events(first, "task_state_changed", case_id)
                 if json.loads(e.payload)["task"] == "mediate"
                 and json.loads(e.payload)["to"] == "COMPLETED"]
    assert completed == []


def test_user_first_then_the_sweep_finds_nothing_to_fire(two, clock):
    first, second = two
    S.deploy(first, "simple.bpmn")
    instance_id, case_id = S.start(first)
    clock.advance(hours=1, minutes=59)
    with first.new_uow() as uow:
        inst = uow.load_instance(instance_id)
        with uow.recording(inst, MEDIATOR, case=case_id):
            inst.complete(inst.find_ready("mediate").id, {"amount": 5})
        uow.commit()
    clock.advance(minutes=5)
    assert timers.sweep(second).fired == 0
    assert S.events(first, "timer_fired", case_id) == []


def test_two_schedulers_climb_the_light_ladder_once_per_rung(two, clock):
    first, second = two
    for services in (first, second):   # processes without a ladder of their own
        services.settings = dataclasses.replace(services.settings, light_ladder=True)
    clock.set(datetime(2025, 3, 10, 1, 30, tzinfo=UTC))       # Mon 09:30 Beijing
    dept = S.department(first, "RS")
    cases = []
    for _ in range(8):
        case_id = S.case(first, urgency="urgent", risk_level="orange", tier="street",
                         lead_department_id=dept)
        S.add_order(first, case_id, dept)
        cases.append(case_id)
    for hours in (0, 1.5, 2.01, 38.6):                         # arm, 75 %, breach, reply overdue
        clock.set(datetime(2025, 3, 10, 1, 30, tzinfo=UTC) + timedelta(hours=hours))
        _together(lambda: sla_sweep.sweep_sla(first), lambda: sla_sweep.sweep_sla(second))
    with first.session_factory() as session:
        rungs = Counter((n.case_id, n.level) for n in session.scalars(select(SupervisionNotice)))
        outbox = Counter((m.case_id, m.template) for m in session.scalars(select(OutboxMessage)))
    for case_id in cases:
        assert [rungs[(case_id, level)] for level in (0, 1, 2)] == [1, 1, 1]
        assert outbox[(case_id, "sla_reminder")] == 1
        assert outbox[(case_id, "supervision_notice")] == 1
        assert outbox[(case_id, "tier_upgraded")] == 2           # department and leader
        assert len(S.events(first, "tier_upgraded", case_id)) == 1


def test_two_deliverers_send_every_message_once_in_order(two, clock, tmp_path):
    first, second = two
    case_id = S.case(first)
    parties = [S.party(first, phone=f"1390000000{i}") for i in range(3)]
    from workflows.models import Case, Party

    for round_no in range(4):
        for party_id in parties:
            with first.new_uow() as uow:
                notifications.notify_party(
                    uow, uow.session.get(Case, case_id), uow.session.get(Party, party_id),
                    template="progress", params={"case_no": "JF", "stage": str(round_no)},
                    key=f"r{round_no}")
                uow.commit()
    for services in (first, second):
        services.settings = services.settings.__class__(
            **{**services.settings.__dict__, "notify_channels": ("file", "sms")})
    with first.new_uow() as uow:  # the rows above went to the file channel: route them to SMS
        for row in uow.session.scalars(select(OutboxMessage)):
            row.channel = "sms"
        uow.commit()
    with Gateway(fail_first=2) as gateway:
        for services in (first, second):
            services.channels["sms"] = SmsGatewayChannel(gateway.url, "tok")
        for _ in range(6):
            _together(lambda: notifications.deliver_pending(first),
                      lambda: notifications.deliver_pending(second))
            clock.advance(minutes=2)
    assert len(gateway.delivered) == 12
    keys = [r["key"] for r in gateway.requests]
    assert len(keys) == 14 and len(set(keys)) == 12              # two retried failures only
    by_phone: dict[str, list[str]] = {}
    for request in gateway.requests:
        if request["key"] in gateway.delivered and request["key"] not in by_phone.get(
                request["to"], []):
            by_phone.setdefault(request["to"], []).append(request["key"])
    for sent in by_phone.values():
        assert sent == sorted(sent, key=lambda k: int(k.rsplit("-", 1)[1]))
    with first.session_factory() as session:
        assert {m.status for m in session.scalars(select(OutboxMessage))} == {"sent"}
    assert json.dumps(gateway.requests).count("1390000000") == 14


def test_c03_on_the_shipped_library_climbs_each_rung_once_with_two_schedulers(two, clock):
    """C03: the 2 h response limit breached -> reminder -> 督办 -> upgrade, once each."""
    from tests.bpmn.test_services_labour import local

    first, second = two
    walk = S.c03_walk(first, clock)

    def both_at(*moments):
        for moment in moments:
            clock.set(moment)
            _together(lambda: timers.sweep(first), lambda: timers.sweep(second))

    both_at(local(2025, 3, 10, 11, 30, 1), local(2025, 3, 10, 11, 31))
    assert S.ladder_counts(first, walk.case_no)["reminder"] == 1
    both_at(local(2025, 3, 11, 11, 30, 2), local(2025, 3, 11, 12, 0))
    walk.do("issue_supervision", supervision_note="限1个工作日书面说明", listed_in_weekly_review="true")
    both_at(local(2025, 3, 13, 0, 0, 1), local(2025, 3, 13, 0, 5))
    assert S.ladder_counts(first, walk.case_no) == {
        "reminder": 1, "issue_supervision": 1, "upgrade_notice": 1, "timers_fired_twice": 0}
    with first.session_factory() as session:
        assert verify_chains(session, first.keyring).ok


def test_two_schedulers_run_a_daily_job_once(two):
    first, second = two
    ran: list[str] = []

    @claims.once_per("day")
    def daily(services):
        ran.append(services.settings.database_url)
        return True

    results = _together(lambda: daily(first), lambda: daily(second))

    assert sorted(map(bool, results)) == [False, True] and len(ran) == 1
