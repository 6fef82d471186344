"""Auditor read models: case history and filters, state at an event, access log, chain status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from engine.models import AuditCheckpoint
from tests.audit_support import MEDIATOR, deploy, drop_audit_triggers, run_joint_case
from workflows.audit.checkpoints import checkpoint_mac
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.models import Party
from workflows.replay.access_log import access_log, chain_status
from workflows.replay.history import HistoryFilter, case_history
from workflows.replay.steps import state_at

AUDITOR = Actor(type="user", id="9", username="auditor1", roles=frozenset({"auditor"}))


def _entries(services, **filters):
    return case_history(services, "TEST-J-001", HistoryFilter(**filters))["entries"]


def _seq(services, action, nth=0, **match):
    found = [e for e in _entries(services) if e.action == action and e.seq is not None
             and all(e.payload.get(k) == v for k, v in match.items())]
    return found[nth].seq


def test_history_lists_every_kind_in_order_with_the_deploy(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)

    history = case_history(services, "TEST-J-001")

    actions = [e.action for e in history["entries"]]
    assert actions[0] == "process_deployed"  # the version the case runs on, from the system chain
    assert actions.index("case_opened") < actions.index("timer_fired") < actions.index(
        "message_received")
    assert {"task", "submission", "timer", "message", "deploy"} <= set(history["kinds"])
    times = [e.occurred_at for e in history["entries"]]
    assert times == sorted(times)


def test_filters_by_kind_actor_department_and_time(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)

    assert [e.action for e in _entries(services, kinds=frozenset({"timer"}))] == ["timer_fired"]
    mine = _entries(services, actor="7", kinds=frozenset({"submission"}))
    assert len(mine) == 6 and all(e.actor_id == "7" for e in mine)  # triage, 3 opinions, escalate, close
    assert _entries(services, department="3", kinds=frozenset({"submission"})) == mine
    assert _entries(services, department="99") == []
    start = datetime(2025, 3, 3, 5, 0, tzinfo=UTC)  # after the opinions, before the escalation
    late = _entries(services, since=start, kinds=frozenset({"submission"}))
    assert [e.payload["bpmn_id"] for e in late] == ["escalate", "close"]


def test_submission_shows_what_was_entered(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)

    triage = _entries(services, kinds=frozenset({"submission"}))[0]

    assert triage.detail == "分流"
    assert {"key": "amount", "before": None, "after": 386000} in triage.changes
    completed = [e for e in _entries(services, kinds=frozenset({"task"}))
                 if e.payload.get("task") == "triage" and e.payload.get("to") == "COMPLETED"][0]
    assert {"key": "amount", "before": None, "after": 386000} in completed.changes
    assert completed.detail == "分流：就绪 → 完成"


def test_state_at_an_event_shows_the_branches_deadlines_and_data(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)
    triage = _seq(services, "task_completed", bpmn_id="triage")

    after_triage = state_at(services, "TEST-J-001", triage)

    current = after_triage.elements["joint_case"]["current"]
    assert {"co_handle", "lead_handle", "lead_deadline"} <= set(current)
    assert "triage" in after_triage.elements["joint_case"]["completed"]
    assert after_triage.deadlines == [{"name": "办理时限", "due": "2025-03-03T05:20:00+00:00"}]
    assert sorted(r["index"] for r in after_triage.ready if r["bpmn_id"] == "co_handle") == [0, 1, 2]
    assert after_triage.data["amount"] == 386000
    assert after_triage.replay_error is None

    escalated = state_at(services, "TEST-J-001", _seq(services, "timer_fired"))
    assert "escalate" in escalated.elements["joint_case"]["current"]
    assert "lead_handle" not in escalated.elements["joint_case"]["current"]
    assert escalated.deadlines == []


def test_state_at_a_transition_inside_a_step_is_partial(services):
    deploy(services, "audit_joint.bpmn")
    run_joint_case(services)
    triage_done = [e for e in _entries(services, kinds=frozenset({"task"}))
                   if e.payload.get("task") == "triage" and e.payload.get("to") == "COMPLETED"][0]

    # the step is one audit event; its transitions are places inside it
    moment = state_at(services, "TEST-J-001", triage_done.seq, triage_done.transition)

    assert "triage" in moment.elements["joint_case"]["completed"]
    assert "co_handle" not in moment.elements["joint_case"]["current"]  # the split has not run yet


def _reveal(services, actor, party_id, count, case=None):
    with services.new_uow() as uow:
        for _ in range(count):
            uow.audit.record(AuditAction.PARTY_UNMASKED, actor, case=case, object_type="party",
                             object_id=party_id, party_id=party_id, fields=["phone"],
                             purpose="contact_party")
        uow.commit()


def test_access_log_by_user_and_citizen_flags_unusual_volume(services):
    with services.new_uow() as uow:
        uow.session.add(Party(id="p-1", name_enc="x", masked={"name": "马*顺"}))
        uow.commit()
    limit = services.settings.reveal_alert_per_day
    _reveal(services, MEDIATOR, "p-1", limit + 1)
    _reveal(services, AUDITOR, "p-1", 1)
    with services.new_uow() as uow:
        uow.audit.record(AuditAction.ACCESS_DENIED, AUDITOR, object_type="task", object_id="t1",
                         rule="auditor_read_only", method="POST", path="/tasks/t1")
        uow.audit.record(AuditAction.CASE_EXPORTED, AUDITOR, format="json+html", events=12)
        uow.commit()

    log = access_log(services)

    by_user = {u["actor_id"]: u for u in log.by_user}
    assert by_user["7"]["reveals"] == limit + 1 and by_user["7"]["flagged_days"] == ["2025-03-03"]
    assert by_user["9"]["reveals"] == 1 and by_user["9"]["flagged_days"] == []
    assert by_user["9"]["denied"] == 1 and by_user["9"]["exports"] == 1
    assert log.alerts == [{"actor_id": "7", "name": "7", "day": "2025-03-03", "count": limit + 1}]
    assert log.by_party == [{"party_id": "p-1", "label": "马*顺", "reveals": limit + 2, "views": 0,
                             "users": ["7", "9"]}]
    assert all(e.flagged for e in log.entries if e.actor_id == "7")
    assert [e.purpose for e in access_log(services, user="9").entries
            if e.action == "party_unmasked"] == ["contact_party"]
    assert access_log(services, party="nobody").entries == []


def test_reveals_on_two_days_under_the_limit_are_not_flagged(services):
    limit = services.settings.reveal_alert_per_day
    _reveal(services, MEDIATOR, "p-2", limit)
    services.clock.advance(timedelta(days=1))
    _reveal(services, MEDIATOR, "p-2", limit)

    assert access_log(services).alerts == []


def test_chain_status_names_the_first_broken_link(services):
    deploy(services, "audit_joint.bpmn")
    driver = run_joint_case(services)
    assert chain_status(services)["ok"]
    chain = f"case:{driver.case_id}"
    drop_audit_triggers(services)
    services.db.execute(text("UPDATE audit_event SET payload = replace(payload, '386000', '1') "
                             "WHERE chain_key = :c AND action = 'task_completed'"), {"c": chain})

    status = chain_status(services)

    assert not status["ok"]
    triage = _seq(services, "task_completed", bpmn_id="triage")
    assert status["first"] == {"chain": chain, "seq": triage, "case_no": "TEST-J-001",
                               "label": "案件 TEST-J-001",
                               "reason": "hash mismatch (event content altered)"}


def test_deleted_tail_is_found_through_the_checkpoint(services):
    deploy(services, "audit_joint.bpmn")
    driver = run_joint_case(services)
    chain = f"case:{driver.case_id}"
    with services.session_factory() as session:
        last = session.execute(text("SELECT seq, hash FROM audit_event WHERE chain_key = :c "
                                    "ORDER BY seq DESC LIMIT 1"), {"c": chain}).one()
    heads = {chain: [last.seq, last.hash]}
    with services.new_uow() as uow:
        uow.session.add(AuditCheckpoint(taken_at=services.clock.now(), heads=heads,
                                        mac=checkpoint_mac(services.keyring, services.clock.now(),
                                                           heads)))
        uow.commit()
    drop_audit_triggers(services)
    # the superuser deletes the newest event and moves the head back so the chain still closes
    services.db.execute(text("DELETE FROM audit_event WHERE chain_key = :c AND seq = :s"),
                        {"c": chain, "s": last.seq})
    services.db.execute(text("UPDATE audit_chain_head SET last_seq = :s, last_hash = "
                             "(SELECT hash FROM audit_event WHERE chain_key = :c AND seq = :s) "
                             "WHERE chain_key = :c"), {"c": chain, "s": last.seq - 1})

    status = chain_status(services, [chain])

    assert [(b["seq"], "deleted" in b["reason"]) for b in status["breaks"]] == [(last.seq, True)]
