"""Service-level walks of people's mediation (C01) through intake, complete_task and timers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from workflows.documents import full_text
from workflows.models import CaseDocument
from workflows.parties import PartyInput


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def c01_parties() -> list[PartyInput]:
    return [PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678",
                       address="东湖街道锦苑小区3栋402室", vulnerable=["elderly"]),
            PartyInput(name="陈立伟", role="respondent", id_number=IDS["陈立伟"],
                       phone="13912345678", address="东湖街道锦苑小区3栋502室")]


@pytest.fixture
def c01(services, clock) -> Walk:
    """C01 registered from the grid app on Mon 2025-03-03 10:20 and checked by the clerk."""
    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="东湖街道锦苑小区3栋502室卫生间长期渗漏至402室……", parties=c01_parties())
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    return walk


def mediate_to_agreement(walk: Walk, signed_on: datetime, *, jc: bool) -> None:
    walk.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    mediator = walk.user("mediator", "JDTJ")
    walk.do("assign_mediator", mediator_id=mediator.username, mediator_chosen_by="committee",
            conflict_check="no_conflict")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="non_public", mediation_registration_note="登记")
    walk.do("mediation_session", session_mode="site_visit", session_record="实地查看，物业工程师到场",
            session_next="continue")
    walk.do("mediation_session", session_mode="in_person", session_record="双方协商",
            session_next="agreement")
    walk.do("choose_agreement_form", agreement_form="written")
    walk.do("draft_agreement", agreement_facts="502室卫生间防水层老化渗漏至402室",
            agreement_disputed_matters="维修责任与费用", agreement_responsibilities="502室承担主要责任",
            agreement_terms="被申请人修复防水并赔偿申请人维修费4000元", performance_manner="一次性转账",
            performance_period="statutory_days(15)", jc_intended="true" if jc else "false")
    walk.clock.set(signed_on)
    walk.do("sign_agreement", signing_outcome="signed", parties_signed="true",
            mediator_signed="true", committee_sealed="true",
            agreement_effective_date=signed_on.astimezone(SHANGHAI).date().isoformat())


def test_c01_agreement_with_judicial_confirmation_to_closure(services, c01):
    walk = c01
    summary = walk.summary()
    assert summary["tier"] == "street" and summary["lead_department"]["code"] == "JDTJ"
    sign_off = walk.task("sign_off", "JDTJ")
    assert sign_off["due_at"] == local(2025, 3, 4, 10, 20)           # T-01b 24 h
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.task("contact_citizen")["due_at"] == local(2025, 3, 6, 0, 0)  # T-02: 2 WD, 24:00
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已电话联系双方")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")       # 锦苑物业 (co-department)
    walk.do("co_handle", "WY", co_result="物业工程师查明立管完好", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业已查明原因", joint_outcome="partly_resolved")
    assert walk.summary()["status"] == "in_mediation"
    mediate_to_agreement(walk, local(2025, 3, 20, 15, 0), jc=True)
    assert walk.summary()["status"] == "in_mediation"
    jc = walk.task("prepare_jc")
    assert jc["due_at"] == local(2025, 4, 22, 0, 0)    # 30 days from 03-20: Sat 04-19 -> Mon 04-21
    walk.do("prepare_jc", jc_joint_application="true", jc_court="domicile_court",
            jc_filed_on="2025-03-24")
    walk.do("record_jc_decision", jc_result="confirmed")
    assert walk.ids() == []                              # waiting for the performance deadline
    walk.until(local(2025, 4, 7, 23, 0))   # 15 days from 03-20 end on 04-04, 清明 (4-6): 04-07
    assert walk.ids() == []
    walk.until(local(2025, 4, 8, 9, 0))
    walk.do("performance_check", performed="performed", performance_note="已赔偿")
    walk.do("submit_result", outcome="R1", result_summary="调解协议已履行，经司法确认")
    walk.do("review_result", review_decision="approve")
    assert walk.summary()["status"] == "awaiting_feedback"
    from workflows.case_events import record_rating

    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="satisfied", comment="满意")
    summary = walk.summary()
    assert (summary["status"], summary["outcome"], summary["satisfaction"]) == \
        ("closed", "R1", "satisfied")
    assert walk.orders() == [("JDTJ", "lead", 1, "done"), ("WY", "co", 1, "done")]
    with services.session_factory() as session:
        docs = {d.kind: d for d in session.scalars(select(CaseDocument))}
    agreement = docs["mediation_agreement"]
    assert "刘*芬" in agreement.body and "刘淑芬" not in agreement.body
    assert "自本协议生效之日起15日内" in agreement.body and "4000" in agreement.body
    assert {"registration", "sign_off", "jc_application", "completion_report"} <= set(docs)
    signing_copy = full_text(services, agreement)       # printed in full only for signing
    assert "申请人：刘淑芬，性别：女，出生日期：1962-03-15（62岁）" in signing_copy
    assert IDS["陈立伟"] in signing_copy and IDS["陈立伟"] not in agreement.body
