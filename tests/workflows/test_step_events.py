"""One audit event per engine step: a case recorded so and a case recorded the older way (one
event per task transition) read the same in history and replay, and both chains verify."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from engine.recorder import expand_step
from tests.audit_support import deploy, run_joint_case
from workflows.audit.log import AuditAction, AuditLog, verify_chains
from workflows.cases.lookup import find_case
from workflows.replay.case_replay import replay_case
from workflows.replay.history import case_history
from workflows.replay.steps import state_at

START = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture
def transition_events(monkeypatch):
    """Record engine steps as they were recorded before: a row per transition."""
    original = AuditLog.record_copy

    def one_row_each(self, action, actor, payload, **where):
        if action != AuditAction.ENGINE_STEP:
            return original(self, action, actor, payload, **where)
        for transition in expand_step(payload):
            original(self, AuditAction.TASK_STATE_CHANGED, actor, transition,
                     **{**where, "object_type": "task", "object_id": transition["task_id"]})

    monkeypatch.setattr(AuditLog, "record_copy", one_row_each)


def _count(services, case_id, action):
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.chain_key == f"case:{case_id}", AuditEvent.action == action))


def _readable(services, case_no):
    """What history shows of a case, without what differs by recording (seq, hash, order)."""
    entries = case_history(services, case_no)["entries"]
    shown = [(e.action, e.detail, e.actor_id, e.changes, e.engine,
              {k: v for k, v in e.payload.items() if k != "state_digest"})
             for e in entries if e.chain.startswith("case:")]
    # task ids are random, case codes differ by design (and so do digests of the data)
    text = json.dumps(shown, ensure_ascii=False, sort_keys=True, default=str)
    return json.loads(re.sub(UUID, "<task>", text.replace(case_no, "<case>")))


def _run(services, monkeypatch, request, case_no, old: bool):
    clock = request.getfixturevalue("clock")
    clock.set(START)    # both cases at the same instants
    if old:
        deploy(services, "audit_joint.bpmn")
        request.getfixturevalue("transition_events")
    driver = run_joint_case(services, case_no)
    monkeypatch.undo()
    return driver


def test_a_step_is_one_event_and_reads_as_its_transitions(services, monkeypatch, request):
    old = _run(services, monkeypatch, request, "TEST-J-OLD", old=True)
    new = _run(services, monkeypatch, request, "TEST-J-NEW", old=False)

    assert _count(services, old.case_id, "engine_step") == 0
    assert _count(services, new.case_id, "task_state_changed") == 0
    transitions = _count(services, old.case_id, "task_state_changed")
    steps = _count(services, new.case_id, "engine_step")
    assert 0 < steps < transitions / 3
    # history reads every transition of both, with the same data before and after
    assert _readable(services, "TEST-J-NEW") == _readable(services, "TEST-J-OLD")
    for case_no in ("TEST-J-OLD", "TEST-J-NEW"):
        report = replay_case(services, case_no)
        assert report.ok, report.summary()
    with services.session_factory() as session:
        assert verify_chains(session, services.keyring).ok


def test_the_replay_page_state_is_the_same_for_old_and_new_events(services, monkeypatch, request):
    _run(services, monkeypatch, request, "TEST-J-OLD", old=True)
    _run(services, monkeypatch, request, "TEST-J-NEW", old=False)
    finals = []
    for case_no in ("TEST-J-OLD", "TEST-J-NEW"):
        with services.session_factory() as session:
            last = session.scalar(select(func.max(AuditEvent.seq)).where(
                AuditEvent.chain_key == f"case:{find_case(session, case_no).id}"))
        step = state_at(services, case_no, last)
        data = {**step.data, "case_no": "<case>"}
        finals.append((step.elements, data, step.ready, step.deadlines))
    assert finals[0] == finals[1]
    assert finals[1][0], "the diagram shows completed and current elements"

