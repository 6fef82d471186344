"""The timer sweep: fires due timers once, catches up after downtime, backs off, raises incidents."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from engine.errors import ConcurrentUpdate
from engine.models import InstanceRow, OutboxMessage
from tests.workflows import sched_support as S
from workflows.audit.log import verify_chains
from workflows.casework.incidents import clear_instance_incident
from workflows.core.actors import SYSTEM
from workflows.scheduler import timers


@pytest.fixture
def simple(services):
    S.deploy(services, "simple.bpmn")
    return services


def test_due_timer_fires_once_with_its_lateness(simple, clock):
    instance_id, case_id = S.start(simple)
    clock.advance(hours=2, seconds=1)
    assert timers.sweep(simple).fired == 1
    assert S.ready(simple, instance_id) == ["escalate_review"]
    fired = S.events(simple, "timer_fired", case_id)
    assert len(fired) == 1
    payload = json.loads(fired[0].payload)
    assert payload["timer"] == "响应时限"
    assert payload["due_at"] == "2025-03-03T03:00:00+00:00"
    assert payload["lateness_s"] == 1.0
    assert fired[0].actor_type == "scheduler"
    assert timers.sweep(simple).fired == 0
    assert len(S.events(simple, "timer_fired", case_id)) == 1


def test_nothing_fires_before_the_due_time(simple, clock):
    instance_id, _ = S.start(simple)
    clock.advance(hours=1, minutes=59, seconds=59)
    assert timers.sweep(simple).fired == 0
    assert S.ready(simple, instance_id) == ["mediate"]


def test_restart_after_downtime_fires_each_overdue_timer_once(simple, clock):
    started = [S.start(simple) for _ in range(3)]
    clock.advance(hours=5)  # the scheduler was down while all three fell due
    assert timers.sweep(simple).fired == 3
    assert timers.sweep(simple).fired == 0
    for instance_id, case_id in started:
        assert S.ready(simple, instance_id) == ["escalate_review"]
        assert len(S.events(simple, "timer_fired", case_id)) == 1
        assert json.loads(S.events(simple, "timer_fired", case_id)[0].payload)["lateness_s"] == 3 * 3600


def test_clock_stepped_back_after_a_firing_escalates_nothing_again(simple, clock):
    instance_id, case_id = S.start(simple)
    clock.advance(hours=3)
    assert timers.sweep(simple).fired == 1
    clock.advance(hours=-1)
    assert timers.sweep(simple).fired == 0
    assert len(S.events(simple, "timer_fired", case_id)) == 1


def test_completed_task_cancels_its_timer_so_the_sweep_has_nothing(simple, clock):
    instance_id, case_id = S.start(simple)
    with simple.new_uow() as uow:
        inst = uow.load_instance(instance_id)
        with uow.recording(inst, SYSTEM):
            inst.complete(inst.find_ready("mediate").id, {"amount": 10, "outcome": "agreed"})
        uow.commit()
    assert S.row(simple, instance_id).due_at is None
    clock.advance(hours=3)
    assert timers.sweep(simple).fired == 0
    assert S.events(simple, "timer_fired", case_id) == []


def test_idle_sweep_reads_only_the_due_index_and_loads_no_instance(simple, clock):
    for _ in range(40):
        S.start(simple, with_case=False)
    statements: list[str] = []

    def spy(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(simple.db, "before_cursor_execute", spy)
    try:
        assert timers.sweep(simple).fired == 0
    finally:
        event.remove(simple.db, "before_cursor_execute", spy)
    touching = [s for s in statements if "workflow_instance" in s]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("SELECT")
    assert "state" not in touching[0].split("FROM")[0]  # ids only: no instance is deserialized
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_idle_sweep_query_uses_the_partial_due_index(simple):
    if simple.db.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; PostgreSQL is measured by benchmarks/")
    plan = simple.db.execute(text(
        "EXPLAIN QUERY PLAN SELECT id FROM workflow_instance WHERE due_at IS NOT NULL "
        "AND due_at <= '2025-03-03T01:00:00.000000Z' AND status IN ('running', 'waiting') "
        "ORDER BY due_at, id LIMIT 200")).fetchall()
    assert "ix_workflow_instance_due" in " ".join(str(row[-1]) for row in plan)


# -- failures, back-off and incidents -----------------------------------------------------------
@pytest.fixture
def probed(services):
    probe = S.Probe()
    S.deploy(services, "sched_probe.bpmn", probe=probe)
    return services, probe


def test_failing_timer_backs_off_then_raises_an_incident_on_the_third_failure(probed, clock):
    services, probe = probed
    instance_id, case_id = S.start(services, "sched_probe")
    probe.failing = True
    clock.advance(hours=1, seconds=1)
    for backoff in (1, 5):
        assert timers.sweep(services).fired == 0
        row = S.row(services, instance_id)
        assert row.due_at == clock.now() + timedelta(minutes=backoff)
        assert row.status != "incident" and "probe failure" in row.last_error
        clock.advance(minutes=backoff, seconds=1)
    result = timers.sweep(services)
    assert (result.fired, result.failures, result.incidents) == (0, 1, 1)
    row = S.row(services, instance_id)
    assert (row.status, row.due_at, row.timer_attempts) == ("incident", None, 3)
    incident = S.events(services, "incident_raised", case_id)
    assert len(incident) == 1
    assert "probe failure" in json.loads(incident[0].payload)["error"]
    assert S.count(services, OutboxMessage, OutboxMessage.template == "incident") == 1
    # each failed step was rolled back: no task events, the user task is still there
    assert S.ready(services, instance_id) == ["wait"]
    assert S.events(services, "timer_fired", case_id) == []
    clock.advance(hours=1)
    assert timers.sweep(services).failures == 0  # incidents are not swept


def _fail_until_incident(services, clock):
    clock.advance(hours=1, seconds=1)
    for backoff in (1, 5, 0):
        timers.sweep(services)
        clock.advance(minutes=backoff, seconds=1)


def test_operator_retry_after_the_cause_is_fixed_fires_the_timer(probed, clock):
    services, probe = probed
    instance_id, case_id = S.start(services, "sched_probe")
    probe.failing = True
    _fail_until_incident(services, clock)
    assert S.row(services, instance_id).status == "incident"
    probe.failing = False
    clear_instance_incident(services.new_uow(), SYSTEM, instance_id)
    assert timers.sweep(services).fired == 1
    assert S.ready(services, instance_id) == ["after"]
    assert probe.calls.count("deadline") == 4  # three failed tries, one success
    assert len(S.events(services, "incident_retried", case_id)) == 1
    assert S.row(services, instance_id).timer_attempts == 0


def test_a_conflict_is_retried_and_not_counted_as_a_failure(simple, clock, monkeypatch):
    instance_id, case_id = S.start(simple)
    clock.advance(hours=3)
    real, calls = timers.fire_instance, []

    def conflicting(services, ident, now):
        calls.append(ident)
        if len(calls) == 1:
            raise ConcurrentUpdate("someone else won")
        return real(services, ident, now)

    monkeypatch.setattr(timers, "fire_instance", conflicting)
    result = timers.sweep(simple)
    assert (result.fired, result.conflicts, result.failures) == (1, 1, 0)
    assert S.row(simple, instance_id).timer_attempts == 0


def test_persistent_conflicts_leave_the_instance_for_the_next_sweep(simple, clock, monkeypatch):
    instance_id, _ = S.start(simple)
    clock.advance(hours=3)

    def always(*_args):
        raise ConcurrentUpdate("busy")

    monkeypatch.setattr(timers, "fire_instance", always)
    result = timers.sweep(simple)
    assert result.skipped == [instance_id] and result.conflicts == 3
    monkeypatch.undo()
    assert timers.sweep(simple).fired == 1


def test_fifteen_day_labour_mediation_limit_escalates_to_arbitration(services, clock):
    """C03: mediation received Mon 2025-03-10 09:30; 15 days (statutory) end 2025-03-25 24:00."""
    S.deploy(services, "labour_mediation.bpmn")
    clock.set(datetime(2025, 3, 10, 1, 30, tzinfo=UTC))
    instance_id, case_id = S.start(services, "labour_mediation", urgency="urgent")
    assert S.row(services, instance_id).due_at == datetime(2025, 3, 25, 16, 0, tzinfo=UTC)
    clock.set(datetime(2025, 3, 25, 15, 59, 59, tzinfo=UTC))  # 23:59:59 Beijing on day 15
    assert timers.sweep(services).fired == 0
    clock.set(datetime(2025, 3, 25, 16, 0, 1, tzinfo=UTC))
    assert timers.sweep(services).fired == 1
    assert S.ready(services, instance_id) == ["prepare_arbitration"]


def test_audit_chains_verify_after_sweeps(simple, clock):
    for _ in range(2):
        S.start(simple)
    clock.advance(hours=2, seconds=1)
    timers.sweep(simple)
    with simple.session_factory() as session:
        assert verify_chains(session, simple.keyring).ok


def test_next_due_at_is_the_earliest_live_timer(simple, clock):
    assert timers.next_due_at(simple) is None
    S.start(simple)
    clock.advance(minutes=10)
    S.start(simple)
    assert timers.next_due_at(simple) == datetime(2025, 3, 3, 3, 0, tzinfo=UTC)
    with simple.session_factory() as session:
        assert session.scalar(select(InstanceRow.id).where(InstanceRow.status == "incident")) is None


# -- a timer racing a user completing the same task --------------------------------------------
# "timer commits first, the user's commit conflicts" needs two real transactions: on SQLite the
# user's transaction holds the write lock from its first read, so the sweep waits for it; the
# interleaving is tested on PostgreSQL in tests/postgres/test_scheduler_pg.py.


def test_user_commits_first_and_the_timer_run_changes_nothing(simple, clock):
    instance_id, case_id = S.start(simple)
    clock.advance(hours=1, minutes=59, seconds=59)
    due = timers.due_candidates(simple, clock.now() + timedelta(seconds=2), 10)
    assert due == [instance_id]                       # the sweep read it as due ...
    with simple.new_uow() as uow:
        inst = uow.load_instance(instance_id)
        with uow.recording(inst, SYSTEM, case=case_id):
            inst.complete(inst.find_ready("mediate").id, {"amount": 5, "outcome": "agreed"})
        uow.commit()                                   # ... but the user committed first
    clock.advance(seconds=2)
    assert timers.fire_instance(simple, instance_id, clock.now()) is False
    assert S.events(simple, "timer_fired", case_id) == []
    assert S.row(simple, instance_id).status == "completed"


# -- C03 on the shipped library -----------------------------------------------------------------
def test_c03_sign_off_breach_climbs_reminder_supervision_upgrade_once_each(services, clock):
    """The 2 h response limit passes unsigned: L0 reminder, then 督办 (issue_supervision), then the
    unanswered 督办 upgrades (L2) -- each once, however often the sweep runs."""
    from tests.bpmn.test_services_labour import local

    walk = S.c03_walk(services, clock)
    assert walk.task("sign_off", "RS")["due_at"] == local(2025, 3, 10, 11, 30)
    for moment in (local(2025, 3, 10, 11, 30, 1), local(2025, 3, 10, 11, 31),
                   local(2025, 3, 10, 18, 0)):
        clock.set(moment)
        timers.sweep(services)
    assert S.ladder_counts(services, walk.case_no)["reminder"] == 1
    for moment in (local(2025, 3, 11, 11, 30, 2), local(2025, 3, 11, 12, 0)):
        clock.set(moment)
        timers.sweep(services)
    assert "issue_supervision" in walk.ids()
    walk.do("issue_supervision", supervision_note="限1个工作日书面说明", listed_in_weekly_review="true")
    for moment in (local(2025, 3, 13, 0, 0, 1), local(2025, 3, 13, 0, 5), local(2025, 3, 13, 9, 0)):
        clock.set(moment)
        timers.sweep(services)
    counts = S.ladder_counts(services, walk.case_no)
    assert counts == {"reminder": 1, "issue_supervision": 1, "upgrade_notice": 1,
                      "timers_fired_twice": 0}
    assert walk.data()["escalation_level"] == "L2"
