"""Verified re-execution: recorded inputs reproduce the recorded states; tampering is found."""

from __future__ import annotations

import json
import re
from uuid import UUID

import pytest
from sqlalchemy import select, text

from engine.clock import use_clock
from engine.instance import WorkflowInstance
from engine.models import AuditEvent, InstanceRow
from tests.audit_support import (
    JOINT_DATA,
    MEDIATOR,
    CaseDriver,
    deploy,
    deploy_bytes,
    drop_audit_triggers,
    run_joint_case,
)
from workflows.audit.log import AuditAction
from workflows.replay.case_replay import data_diff, replay_case


def _actions(services, case_id):
    with services.session_factory() as session:
        return session.execute(select(AuditEvent.seq, AuditEvent.action)
                               .where(AuditEvent.chain_key == f"case:{case_id}")
                               .order_by(AuditEvent.seq)).all()


def _seq_of(services, case_id, action, nth=0):
    return [seq for seq, name in _actions(services, case_id) if name == action][nth]


def test_simple_case_reproduces_and_records_case_replayed(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-001", "simple").open()
    driver.advance(minutes=30)
    driver.complete("mediate", {"amount": 5000, "outcome": "agreed", "note": "同意"})
    driver.complete("review", {})

    report = replay_case(services, "TEST-S-001")

    assert report.ok, report.summary()
    assert report.summary() == "verified: 3 events reproduce"
    last = _actions(services, driver.case_id)[-1]
    assert last.action == AuditAction.CASE_REPLAYED
    with services.session_factory() as session:
        payload = json.loads(session.scalar(select(AuditEvent.payload).where(
            AuditEvent.chain_key == f"case:{driver.case_id}", AuditEvent.seq == last.seq)))
    assert payload["result"] == "verified"
    # a second replay ignores the case_replayed event it finds in the chain
    assert replay_case(services, "TEST-S-001").ok


def test_joint_case_with_multi_instance_timer_and_message_reproduces(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)

    report = replay_case(services, "TEST-J-001")

    assert report.ok, report.summary()
    # opened, triage, 3 opinions, timer, escalate, message, close
    assert report.verified == 9
    assert [s["action"] for s in report.steps].count("timer_fired") == 1


def test_replay_until_seq_stops_there_and_records_nothing(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-002", "simple").open()
    driver.complete("mediate", {"amount": 10, "outcome": "agreed", "note": ""})
    opened = _seq_of(services, driver.case_id, "case_opened")
    before = len(_actions(services, driver.case_id))

    report = replay_case(services, "TEST-S-002", until_seq=opened)

    assert report.ok and report.inputs == 1
    assert len(_actions(services, driver.case_id)) == before


def _forge(services, instance_id, **values):
    """Edit the stored state the way someone with database access would (not through jiefen)."""
    with services.session_factory() as session:
        state = session.scalar(select(InstanceRow.state).where(InstanceRow.id == instance_id))
    inst = WorkflowInstance.load(state, services.serializer)
    task = inst.workflow.get_task_from_id(UUID(inst.ready_tasks()[0].id))
    task.data.update(values)
    services.db.execute(text("UPDATE workflow_instance SET state = :s WHERE id = :i"),
                        {"s": inst.dump(services.serializer), "i": instance_id})


def test_state_altered_outside_jiefen_fails_at_the_next_input(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-003", "simple").open()
    _forge(services, driver.instance_id, refund_to="6222 0000 1111")
    driver.advance(minutes=5)
    driver.complete("mediate", {"amount": 500, "outcome": "agreed", "note": ""})
    completed = _seq_of(services, driver.case_id, "task_completed")

    report = replay_case(services, "TEST-S-003")

    assert report.result == "diverged"
    assert report.divergence.seq == completed
    assert report.divergence.expected != report.divergence.actual
    assert {"key": "refund_to", "expected": "6222 0000 1111", "actual": None, "change": "missing",
            "task": "mediate"} in report.divergence.data_diff
    assert "diverged at seq" in report.summary()


def test_digest_does_not_depend_on_task_uuids(services):
    versions = deploy(services, "audit_joint.bpmn")
    bundle = services.specs.bundle(str(versions["joint_case"].id))

    def started():
        with use_clock(services.clock.now):
            inst = WorkflowInstance.start(bundle, "joint_case", script_engine=services.script_engine,
                                          data=dict(JOINT_DATA))
            inst.complete(inst.find_ready("triage").id, {"amount": 1})  # opens three MI children
        return inst

    one, two = started(), started()

    assert {t.id for t in one.ready_tasks()}.isdisjoint({t.id for t in two.ready_tasks()})
    assert one.state_digest() == two.state_digest()


def test_state_altered_after_the_last_event_is_reported_as_stored_state(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-004", "simple").open()
    driver.complete("mediate", {"amount": 5000, "outcome": "agreed", "note": ""})
    with services.session_factory() as session:
        state = session.scalar(select(InstanceRow.state).where(InstanceRow.id == driver.instance_id))
    services.db.execute(text("UPDATE workflow_instance SET state = :s WHERE id = :i"),
                        {"s": re.sub(r'"amount": ?5000', '"amount": 50', state, count=1),
                         "i": driver.instance_id})

    report = replay_case(services, "TEST-S-004")

    assert report.result == "diverged"
    assert report.divergence.seq is None
    assert "stored workflow state differs" in report.divergence.reason
    assert {"key": "amount", "expected": 50, "actual": 5000, "change": "changed"} \
        in report.divergence.data_diff


def test_tampered_submission_is_refused_as_broken_chain(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-005", "simple").open()
    driver.complete("mediate", {"amount": 5000, "outcome": "agreed", "note": ""})
    seq = _seq_of(services, driver.case_id, "task_completed")
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = replace(payload, '5000', '50') "
                             "WHERE chain_key = :c AND seq = :s"),
                        {"c": f"case:{driver.case_id}", "s": seq})

    report = replay_case(services, "TEST-S-005")

    assert report.result == "broken_chain"
    assert report.chain_break.seq == seq
    assert "refused" in report.summary()


def test_timer_firing_reproduces_the_escalation(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-006", "simple").open()
    driver.advance(hours=3)
    driver.fire_timers()
    driver.complete("escalate_review", {})

    report = replay_case(services, "TEST-S-006")

    assert report.ok, report.summary()
    assert [s["action"] for s in report.steps] == ["case_opened", "timer_fired", "task_completed"]


def test_a_missing_input_event_is_a_divergence_not_a_pass(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-007", "simple").open()
    # a step committed without its input event (a producer forgot to record it)
    with services.new_uow() as uow:
        inst = uow.load_instance(driver.instance_id)
        with uow.recording(inst, MEDIATOR, case=driver.case_id):
            inst.complete(inst.find_ready("mediate").id, {"amount": 1, "outcome": "agreed"})
        uow.commit()

    report = replay_case(services, "TEST-S-007")

    assert report.result == "diverged"
    assert report.divergence.seq is None  # the stored state is ahead of the recorded inputs


def test_migration_and_data_set_outside_a_step_reproduce(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-008", "simple").open()
    driver.set_data(risk_level="orange")
    v2 = deploy_bytes(services, "simple.bpmn", {"复核": "复核（新）"})["simple"]
    driver.advance(minutes=30)
    driver.migrate(v2)
    driver.complete("mediate", {"amount": 5000, "outcome": "agreed", "note": ""})
    driver.complete("review", {})

    report = replay_case(services, "TEST-S-008")

    assert report.ok, report.summary()
    actions = [s["action"] for s in report.steps]
    assert actions[:3] == ["case_opened", "risk_changed", "instance_migrated"]


def test_data_set_without_its_event_is_caught(services):
    deploy(services, "simple.bpmn")
    driver = CaseDriver(services, "TEST-S-009", "simple").open()
    with services.new_uow() as uow:  # a service that forgot to record set_data
        uow.load_instance(driver.instance_id).set_data(risk_level="red")
        uow.commit()
    driver.complete("mediate", {"amount": 1, "outcome": "agreed", "note": ""})

    report = replay_case(services, "TEST-S-009")

    assert report.result == "diverged"
    assert report.divergence.action == "task_completed"


def test_data_diff_names_changed_added_and_missing_keys():
    diff = data_diff({"a": 1, "b": {"c": 2}, "gone": 1}, {"a": 2, "b": {"c": 2}, "new": 3})
    assert diff == [{"key": "a", "expected": 1, "actual": 2, "change": "changed"},
                    {"key": "gone", "expected": 1, "actual": None, "change": "missing"},
                    {"key": "new", "expected": None, "actual": 3, "change": "added"}]


def test_every_demo_sample_case_reproduces(services):
    """The demo's cases as `jiefen demo` records them (C01-C06, the grid report, the alarm):
    `jiefen replay --verify` passes on every one."""
    pytest.importorskip("workflows.demo.cases", reason="jiefen demo samples not written yet")
    from workflows.demo.loader import load_demo

    report = load_demo(services)
    results = {}
    for line in report.cases:
        key, case_no = line.split()[:2]
        results[key] = replay_case(services, case_no, record=False).summary()

    assert {f"C0{n}" for n in range(1, 7)} <= set(results)
    assert all(r.startswith("verified") for r in results.values()), results
