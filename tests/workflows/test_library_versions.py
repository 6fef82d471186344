"""Versions of the shipped library (bpmn/): a process owner adds a step to labour mediation.

A case started before the new version stays on it and finishes there; a new case takes the new
step; a case waiting in mediation is migrated and its statutory 15-day limit keeps its due time
(the waiting timer lives in the labour_dispute call activity, two levels below general_dispute).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent, InstanceRow, ProcessVersion
from tests.factories import BPMN_DIR, IDS, Walk
from tests.process_fixtures import owner
from workflows.cases.parties import PartyInput
from workflows.models import Case
from workflows.processes import catalogue as processes
from workflows.processes.case_migration import migrate_case, preview_migration

OWNER = owner()
NEW_STEP = """
    <bpmn:sequenceFlow id="flow_labour_mediation_check_record" sourceRef="labour_mediation" targetRef="check_mediation_record"/>
    <bpmn:userTask id="check_mediation_record" name="核对调解笔录">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="record_checked" label="笔录已由双方签字确认" type="enum">
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
            <camunda:value id="yes" name="是"/>
            <camunda:value id="no" name="否"/>
          </camunda:formField>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_check_record_gw_labour_mediation" sourceRef="check_mediation_record" targetRef="gw_labour_mediation"/>
"""
OLD_FLOW = ('<bpmn:sequenceFlow id="flow_labour_mediation_gw_labour_mediation" '
            'sourceRef="labour_mediation" targetRef="gw_labour_mediation"/>')


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def library_v2() -> dict[str, bytes]:
    """The shipped files with one new user task between labour mediation and its gateway."""
    files = {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir())
             if p.suffix in (".bpmn", ".dmn")}
    text = files["labour_dispute.bpmn"].decode("utf-8")
    assert OLD_FLOW in text
    text = text.replace(OLD_FLOW, NEW_STEP)
    text = text.replace("<bpmn:flowNodeRef>labour_mediation</bpmn:flowNodeRef>",
                        "<bpmn:flowNodeRef>labour_mediation</bpmn:flowNodeRef>"
                        "<bpmn:flowNodeRef>check_mediation_record</bpmn:flowNodeRef>")
    files["labour_dispute.bpmn"] = text.encode("utf-8")
    return files


def to_labour_mediation(services, clock, applicant: str, phone: str) -> Walk:
    """C04-like individual severance (street tier) up to the mediation with its 15-day limit;
    one applicant per case (the same person twice would be linked as a duplicate)."""
    walk = Walk(services, clock)
    walk.intake(channel="portal", category="labour", summary="解除劳动合同未支付经济补偿",
                description=f"{applicant}在星辰电子科技有限公司工作三年……",
                parties=[PartyInput(name=applicant, id_number=IDS[applicant], phone=phone),
                         PartyInput(name="星辰电子科技有限公司", role="respondent")])
    walk.do("register", category="labour", urgency="general", people_count="1", summary="经济补偿")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("request_evidence", evidence_items="劳动合同、工资流水", evidence_status="received")
    walk.do("co_sign_off", "RS", co_sign_off_decision="accept")
    walk.do("co_handle", "RS", co_result="提供法律咨询", co_result_status="done")
    walk.do("lead_consolidate", joint_result="人社已提供咨询", joint_outcome="resolved")
    walk.mediator = walk.user("mediator", "JDLT")
    walk.do("register_labour_mediation", actor=walk.mediator,
            mediation_application_date="2025-09-30", trade_union_present="false",
            mediation_claims="经济补偿及离职证明")
    assert walk.task("labour_mediation")["due_at"] == local(2025, 10, 16, 0, 0)
    return walk


def mediate(walk: Walk) -> None:
    walk.do("labour_mediation", actor=walk.mediator, labour_mediation_record="双方同意",
            labour_mediation_result="agreement")


def version_of(services, case_no: str) -> int:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        row = session.get(InstanceRow, case.workflow_instance_id)
        return session.get(ProcessVersion, row.process_version_id).version


def armed(services, case_no: str) -> list[tuple[str, datetime]]:
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        return sorted(uow.load_instance(case.workflow_instance_id).armed_timers())


def test_library_v2_adds_a_mediation_step_old_case_stays_new_case_takes_it_waiting_case_moves(
        services, clock):
    clock.set(local(2025, 9, 30, 16, 40))
    Walk.ready(services, clock)  # reference data and bpmn/ as version 1
    waiting = to_labour_mediation(services, clock, "郑雅琪", "13600000000")
    old = to_labour_mediation(services, clock, "孙永福", "13600000001")

    # the library has two entry processes (general_dispute, petition_intake): both get version 2
    [v2] = [v for v in processes.deploy(services.new_uow(), OWNER, library_v2(),
                                        note="调解后核对笔录") if v.process_id == "general_dispute"]
    assert (v2.process_id, v2.version) == ("general_dispute", 2)

    new = to_labour_mediation(services, clock, "周海燕", "13600000002")
    assert version_of(services, new.case_no) == 2
    mediate(new)
    assert "check_mediation_record" in new.ids() and "labour_agreement" not in new.ids()
    new.do("check_mediation_record", actor=new.mediator, record_checked="yes")
    assert "labour_agreement" in new.ids()

    # five days later the owner moves the waiting case; its timers keep their due times
    clock.set(local(2025, 10, 5, 10, 0))
    plans = {p.case_no: p for p in preview_migration(services.new_uow(), OWNER,
                                                     "general_dispute", 2).cases}
    assert set(plans) == {waiting.case_no, old.case_no}
    assert plans[waiting.case_no].safe
    assert "check_mediation_record" in plans[waiting.case_no].plan.added
    before = armed(services, waiting.case_no)
    assert ("调解期限届满", local(2025, 10, 16, 0, 0)) in before
    migrate_case(services.new_uow(), OWNER, waiting.case_no, 2, "调解后核对笔录")
    assert version_of(services, waiting.case_no) == 2
    assert armed(services, waiting.case_no) == before
    assert waiting.task("labour_mediation")["due_at"] == local(2025, 10, 16, 0, 0)
    with services.session_factory() as session:
        [event] = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "instance_migrated")).all()
        payload = json.loads(event.payload)
    assert (payload["from"]["version"], payload["to"]["version"]) == (1, 2)
    assert payload["due_at_before"] == payload["due_at_after"]
    mediate(waiting)
    assert "check_mediation_record" in waiting.ids()

    # the case left on version 1 finishes there, without the new step
    mediate(old)
    assert "check_mediation_record" not in old.ids() and "labour_agreement" in old.ids()
    old.do("labour_agreement", actor=old.mediator, payment_schedule="公司10日内支付经济补偿3万元",
           labour_agreement_signed="true", payment_period="statutory_days(7)")
    old.until(local(2025, 10, 20, 9, 0))  # the 7-day payment period has ended
    old.do("payment_check", actor=old.mediator, agreement_paid="paid", payment_check_note="已付")
    old.do("submit_result", outcome="R1", result_summary="达成协议并已履行")
    old.do("review_result", review_decision="approve")
    old.advance(days=6)
    old.do("return_visit", satisfaction="satisfied")
    assert old.summary()["status"] == "closed"
    assert version_of(services, old.case_no) == 1
