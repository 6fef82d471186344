"""The mediator records an agreement paid before its period ran out: the labour case moves on at
once, the period's timer is gone (advancing the clock past it opens no return visit), the record
is on the case's chain; a second record, or one after the period ran out, is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import IDS, Walk
from workflows.access.policy import Denied
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework.events import record_performance
from workflows.core.errors import InvalidInput, TaskNoLongerAvailable


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def waiting(services, clock) -> Walk:
    """A labour case whose agreement gives the company 30 days to pay."""
    walk = Walk.ready(services, clock)
    return wait_for_payment(walk, walk.user("mediator", "JDLT"))


def wait_for_payment(walk: Walk, mediator) -> Walk:
    """Walk a small labour case to its agreement's 30-day payment period (``mediator`` mediates)."""
    walk.clock.set(local(2025, 3, 3, 9, 0))
    walk.intake(channel="counter", category="labour", summary="拖欠工资",
                description="拖欠两个月工资", parties=[PartyInput(name="郑雅琪",
                                                               id_number=IDS["郑雅琪"])])
    walk.do("register", category="labour", urgency="general", people_count="1", summary="欠薪")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("request_evidence", evidence_items="工资台账", evidence_status="refused")
    walk.do("co_sign_off", "RS", co_sign_off_decision="accept")
    walk.do("co_handle", "RS", co_result="监察介入", co_result_status="partial")
    walk.do("lead_consolidate", joint_result="人社介入", joint_outcome="partly_resolved")
    walk.mediator = mediator
    walk.do("register_labour_mediation", actor=walk.mediator,
            mediation_application_date="2025-03-03", trade_union_present="true",
            mediation_claims="工资")
    walk.do("labour_mediation", actor=walk.mediator, labour_mediation_record="达成",
            labour_mediation_result="agreement")
    walk.do("labour_agreement", actor=walk.mediator, payment_schedule="30日内一次付清",
            labour_agreement_signed="true", payment_period="statutory_days(30)")
    assert [t["bpmn_id"] for t in walk.open()] == []         # nothing to do but wait
    return walk


def _events(services, case_no: str) -> list[tuple[str, dict]]:
    with services.new_uow() as uow:
        case_id = find_case(uow.session, case_no).id
        return [(e.action, json.loads(e.payload or "{}")) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))]


def _payment_timer_fired(events) -> bool:
    return any(a == "timer_fired" and "付款期限" in p.get("timers", []) for a, p in events)


def test_recording_payment_moves_the_case_on_and_the_timer_never_fires(services, waiting):
    walk = waiting
    walk.advance(days=5)
    record_performance(services.new_uow(), walk.mediator, case_no=walk.case_no,
                       note="公司已于第5日一次付清")
    assert [t["bpmn_id"] for t in walk.open()] == ["submit_result"]
    assert "付款期限" not in walk.advance(days=40)             # far past the 30 days
    assert "payment_check" not in [t["bpmn_id"] for t in walk.open()]
    events = _events(services, walk.case_no)
    assert ("case_updated", "performance_recorded") in [(a, p.get("change")) for a, p in events]
    assert any(a == "message_received" and p.get("name") == "performed" for a, p in events)
    assert not _payment_timer_fired(events)
    walk.do("submit_result", outcome="R1", result_summary="达成协议并已履行")


def test_without_a_record_the_period_runs_out_into_the_return_visit(services, waiting):
    assert "付款期限" in waiting.advance(days=32)
    assert [t["bpmn_id"] for t in waiting.open()] == ["payment_check"]
    assert _payment_timer_fired(_events(services, waiting.case_no))
    with pytest.raises(TaskNoLongerAvailable):                # too late: the visit decides
        record_performance(services.new_uow(), waiting.mediator, case_no=waiting.case_no)


def test_a_second_record_is_refused(services, waiting):
    record_performance(services.new_uow(), waiting.mediator, case_no=waiting.case_no)
    with pytest.raises(TaskNoLongerAvailable):
        record_performance(services.new_uow(), waiting.mediator, case_no=waiting.case_no)


def test_only_a_mediator_records_and_the_note_holds_no_personal_data(services, waiting):
    with pytest.raises(Denied):
        record_performance(services.new_uow(), waiting.user("dept_handler", "RS"),
                           case_no=waiting.case_no)
    with pytest.raises(InvalidInput):
        record_performance(services.new_uow(), waiting.mediator, case_no=waiting.case_no,
                           note="郑雅琪 13912345678 已收款")
    assert [t["bpmn_id"] for t in waiting.open()] == []        # still waiting


def test_a_people_mediation_agreement_performed_early_closes_the_mediation(services, clock):
    from tests.bpmn.test_services_mediation import c01_parties, mediate_to_agreement

    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="502室卫生间长期渗漏至402室", parties=c01_parties())
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已电话联系双方")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="物业已查明原因", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业已查明原因", joint_outcome="partly_resolved")
    mediate_to_agreement(walk, local(2025, 3, 20, 15, 0), jc=False)
    assert walk.ids() == []                                   # waiting for the 15 days
    clock.set(local(2025, 3, 25, 9, 0))
    record_performance(services.new_uow(), walk.user("mediator", "JDTJ"), case_no=walk.case_no,
                       note="维修费已转账")
    assert walk.ids() == ["submit_result"]
    assert "履行期限" not in walk.advance(days=30)
    assert "performance_check" not in walk.ids()
