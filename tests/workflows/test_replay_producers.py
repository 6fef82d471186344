"""The real producers record inputs that verified re-execution reproduces (docs/audit.md, the input-event contract):
intake, task completion, the scheduler's sweep (also cycle timers), the escalation ladder writing
workflow data outside a step, a manual risk/tier change, migration, and the demo after a sweep."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.conftest import fixture_bytes
from tests.factories import BPMN_DIR, IDS, Walk, deploy_files, make_user, seed
from tests.process_fixtures import owner
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.deadlines import escalation
from workflows.intake.register import IntakeRequest, open_case
from workflows.processes.case_migration import migrate_case
from workflows.processes.deploy import read_directory
from workflows.replay.case_replay import replay_case
from workflows.scheduler import timers

START = datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)   # Monday 09:00 Beijing


def _payloads(services, case_no: str, action: str) -> list[dict]:
    with services.session_factory() as session:
        case = find_case(session, case_no)
        rows = session.scalars(select(AuditEvent.payload).where(
            AuditEvent.chain_key == f"case:{case.id}", AuditEvent.action == action)
            .order_by(AuditEvent.seq))
        return [json.loads(p) for p in rows]


def _labour_case(walk: Walk) -> str:
    """An individual labour dispute: street tier, blue, the lead's sign-off open (24 h)."""
    walk.intake(channel="portal", category="labour", summary="经济补偿", description="解除劳动合同……",
                parties=[PartyInput(name="郑雅琪", id_number=IDS["郑雅琪"], phone="13600000000"),
                         PartyInput(name="星辰电子科技有限公司", role="respondent")])
    walk.do("register", category="labour", urgency="general", people_count="1", summary="经济补偿")
    assert walk.ids() == ["sign_off"]
    return walk.case_no


def test_swept_deadlines_and_the_ladder_raising_the_colour_replay(services, clock):
    ladder = replace(services, settings=replace(services.settings, light_ladder=True))
    clock.set(START)
    walk = Walk.ready(ladder, clock)
    case_no = _labour_case(walk)

    for hours in (20, 25, 50):   # warning, breach (L1 督办: colour -> yellow), sign-off timeout
        clock.set(START + timedelta(hours=hours))
        assert timers.sweep(ladder).fired == 1

    fired = _payloads(services, case_no, "timer_fired")
    assert len(fired) == 3 and all(p["state_digest"] and p["at"] for p in fired)
    [raised] = _payloads(services, case_no, "risk_changed")
    assert raised["set_data"] == {"risk_level": "yellow"} and raised["state_digest"]
    assert walk.ids() == ["issue_supervision"]
    report = replay_case(services, case_no, record=False)
    assert report.ok, report.summary()
    assert [s["action"] for s in report.steps][-4:] == ["timer_fired", "timer_fired",
                                                        "risk_changed", "timer_fired"]


def test_manual_risk_and_tier_changes_replay_and_the_case_goes_on(services, clock):
    clock.set(START)
    walk = Walk.ready(services, clock)
    case_no = _labour_case(walk)
    triage = walk.user("triage_officer", "ZZ")
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        escalation.set_risk(uow, triage, case, "orange", reason="工人情绪激动")
        escalation.upgrade_tier(uow, triage, case, reason="提级办理")
        uow.commit()
    clock.advance(hours=1)
    walk.do("sign_off", sign_off_decision="accept")

    assert walk.data()["risk_level"] == "orange" and walk.data()["tier"] == "district"
    assert _payloads(services, case_no, "tier_upgraded")[0]["set_data"] == {"tier": "district"}
    assert walk.replays().startswith("verified")


def test_a_cycle_timer_alone_is_an_input_of_its_own(services, clock):
    seed(services)
    deploy_files(services, fixture_bytes("cycle_reminder.bpmn"))
    clerk = make_user(services, "intake_clerk", "ZZ")
    request = IntakeRequest(channel="counter", category="neighbour", description="……",
                            parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])])
    with services.new_uow() as uow:
        case_no = open_case(uow, clerk, request, process_id="cycle_reminder").case_no
        uow.commit()

    for _ in range(2):   # R2/PT1H: two reminders, the task stays open
        clock.advance(hours=1, seconds=1)
        assert timers.sweep(services).fired == 1

    fired = _payloads(services, case_no, "timer_fired")
    assert [p["timers"] for p in fired] == [["催办"], ["催办"]]
    report = replay_case(services, case_no, record=False)
    assert report.ok and report.verified == 3, report.summary()


def test_a_migrated_case_replays_on_its_new_version(services, clock):
    clock.set(START)
    walk = Walk.ready(services, clock)
    case_no = _labour_case(walk)
    files = read_directory(BPMN_DIR)
    files["general_dispute.bpmn"] = files["general_dispute.bpmn"].replace(
        "退单审核与重新派单".encode(), "退单审核与改派".encode())
    deploy_files(services, files)
    clock.advance(hours=2)

    outcome = migrate_case(services.new_uow(), owner(), case_no, 2, "改派环节更名")
    clock.advance(hours=1)
    walk.do("sign_off", sign_off_decision="accept")

    assert outcome.migrated
    [moved] = _payloads(services, case_no, "instance_migrated")
    assert moved["to_version_id"] == moved["to"]["version_id"] and moved["state_digest"]
    report = replay_case(services, case_no, record=False)
    assert report.ok, report.summary()
    assert "instance_migrated" in [s["action"] for s in report.steps]


def test_demo_cases_still_reproduce_after_the_scheduler_swept_them(services, clock):
    from workflows.demo.loader import load_demo

    report = load_demo(services)
    clock.advance(days=3)
    assert timers.sweep(services).fired >= 1   # C03's overdue sign-off and others fire
    results = {line.split()[0]: replay_case(services, line.split()[1], record=False).summary()
               for line in report.cases}

    assert all(r.startswith("verified") for r in results.values()), results
