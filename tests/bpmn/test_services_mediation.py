"""Service-level walks of people's mediation (C01) through intake, complete_task and timers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk, make_user
from workflows.cases.parties import PartyInput
from workflows.casework.documents import full_text
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.models import CaseDocument


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
    walk.session("实地查看，物业工程师到场", "continue")
    walk.session("双方协商", "agreement")
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
            jc_filed_on="2025-03-20")
    walk.do("record_jc_decision", jc_result="confirmed")
    assert walk.ids() == []                              # waiting for the performance deadline
    walk.until(local(2025, 4, 7, 23, 0))   # 15 days from 03-20 end on 04-04, 清明 (4-6): 04-07
    assert walk.ids() == []
    walk.until(local(2025, 4, 8, 9, 0))
    walk.do("performance_check", performed="performed", performance_note="已赔偿")
    walk.do("submit_result", outcome="R1", result_summary="调解协议已履行，经司法确认")
    walk.do("review_result", review_decision="approve")
    assert walk.summary()["status"] == "awaiting_feedback"
    from workflows.casework.events import record_rating

    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="satisfied", comment="满意")
    summary = walk.summary()
    assert (summary["status"], summary["outcome"], summary["satisfaction"]) == \
        ("closed", "R1", "satisfied")
    assert walk.orders() == [("JDTJ", "lead", 1, "done"), ("WY", "co", 1, "done")]
    with services.session_factory() as session:
        docs = {d.kind: d for d in session.scalars(select(CaseDocument))}
    agreement = docs["mediation_agreement"]
    assert "刘**" in agreement.body and "刘淑芬" not in agreement.body
    assert "出生日期：已隐去（62岁）" in agreement.body and "1962-03-15" not in agreement.body
    assert "自本协议生效之日起15日内" in agreement.body and "4000" in agreement.body
    assert {"registration", "sign_off", "jc_application", "completion_report"} <= set(docs)
    signing_copy = full_text(services, agreement)       # printed in full only for signing
    assert "申请人：刘淑芬，性别：女，出生日期：1962-03-15（62岁）" in signing_copy
    assert IDS["陈立伟"] in signing_copy and IDS["陈立伟"] not in agreement.body
    assert walk.replays().startswith("verified")


def to_mediation(walk: Walk) -> None:
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("co_sign_off", "WY", co_sign_off_decision="accept")
    walk.do("co_handle", "WY", co_result="物业已协助", co_result_status="done")
    walk.do("lead_consolidate", joint_result="物业协助", joint_outcome="partly_resolved")


def close(services, walk: Walk, outcome: str) -> None:
    from workflows.casework.events import record_rating

    walk.do("submit_result", outcome=outcome, result_summary="办结")
    walk.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="satisfied")
    assert walk.summary()["status"] == "closed"


def assign(walk: Walk, **extra) -> None:
    walk.do("confirm_consent", consent="both_agree", consent_note="同意")
    walk.do("assign_mediator", mediator_id=walk.user("mediator", "JDTJ").username,
            mediator_chosen_by="parties", conflict_check="no_conflict", **extra)
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="public", mediation_registration_note="登记")


def test_refused_consent_ends_mediation_with_a_legal_route_notice(services, c01):
    to_mediation(c01)
    c01.do("confirm_consent", consent="refused", consent_note="陈立伟拒绝调解")
    c01.do("refusal_notice", actor=c01.user("mediator", "JDTJ"),
           legal_route_notice="可向人民法院起诉")
    close(services, c01, "R4")


def test_mediator_conflict_reassignment_and_unknown_mediator(services, c01):
    to_mediation(c01)
    c01.do("confirm_consent", consent="both_agree", consent_note="同意")
    with pytest.raises(InvalidInput):
        c01.do("assign_mediator", mediator_id="nobody", mediator_chosen_by="committee",
               conflict_check="no_conflict")
    first = c01.user("mediator", "JDTJ")
    c01.do("assign_mediator", mediator_id=first.username, mediator_chosen_by="committee",
           conflict_check="conflict")
    assert c01.ids() == ["assign_mediator"]                    # 另行指派
    other = make_user(services, "mediator", "JDTJ")
    c01.do("assign_mediator", mediator_id=other.id, mediator_chosen_by="committee",
           conflict_check="no_conflict")
    task = c01.task("register_mediation")
    assert task["assignee_id"] == int(other.id)
    with pytest.raises(NotPermitted):                           # assigned to the other one
        c01.do("register_mediation", actor=first, rights_notice_acknowledged="true",
               mediation_publicity="public", mediation_registration_note="x")


def test_oral_agreement_unperformed_is_urged(services, c01):
    to_mediation(c01)
    assign(c01)
    c01.session("线上调解", "agreement")
    c01.do("choose_agreement_form", agreement_form="oral")
    c01.do("record_oral_agreement", oral_agreement_content="被申请人三日内修复",
           agreement_effective_date="2025-03-03", performance_period="statutory_days(7)")
    c01.advance(days=10)
    c01.do("performance_check", performed="not_performed", performance_note="未修复")
    c01.do("urge_performance", urge_record="已督促", legal_route_informed="true")
    close(services, c01, "R1")


def test_refused_signature_and_lapsed_judicial_confirmation_window(services, c01, clock):
    to_mediation(c01)
    assign(c01)
    c01.session("达成一致", "agreement")
    c01.do("choose_agreement_form", agreement_form="written")
    c01.do("draft_agreement", agreement_facts="渗漏", agreement_disputed_matters="维修费",
           agreement_responsibilities="楼上负责", agreement_terms="赔偿", performance_manner="转账",
           performance_period="statutory_days(30)", jc_intended="true")
    with pytest.raises(InvalidInput) as refused:               # not all signed yet: Art 29
        c01.do("sign_agreement", signing_outcome="signed", parties_signed="true",
               mediator_signed="false", committee_sealed="true",
               agreement_effective_date="2025-03-03")
    assert set(refused.value.field_errors) == {"mediator_signed"}
    assert c01.ids() == ["sign_agreement"]
    c01.do("sign_agreement", signing_outcome="signed", parties_signed="true",
           mediator_signed="true", committee_sealed="true", agreement_effective_date="2025-03-03")
    fired = c01.advance(days=35)                                # T-03 lapses without filing
    assert "司法确认申请期届满" in fired and "prepare_jc" not in c01.ids()


def test_signing_refused_terminates_mediation(services, c01):
    to_mediation(c01)
    assign(c01)
    c01.session("一致", "agreement")
    c01.do("choose_agreement_form", agreement_form="written")
    c01.do("draft_agreement", agreement_facts="a", agreement_disputed_matters="b",
           agreement_responsibilities="c", agreement_terms="d", performance_manner="e",
           performance_period="statutory_days(7)", jc_intended="false")
    c01.do("sign_agreement", signing_outcome="refused", parties_signed="false",
           mediator_signed="false", committee_sealed="false",
           agreement_effective_date="2025-03-03")
    c01.do("terminate_mediation", termination_reason="一方拒签", legal_routes_informed="true")
    close(services, c01, "R5")


@pytest.mark.parametrize("continue_agreed", [True, False])
def test_one_month_target_asks_whether_to_continue(services, c01, continue_agreed):
    to_mediation(c01)
    assign(c01)
    fired = c01.advance(days=26)
    assert "调解期限提醒（第25日）" in fired and c01.ids() == ["schedule_session"]
    fired = c01.advance(days=10)                                # T-12: one month (清明 aside)
    assert c01.ids() == ["extension_consent"]
    c01.do("extension_consent", continue_agreed=str(continue_agreed).lower(),
           extension_record="征询记录")
    if continue_agreed:
        assert c01.ids() == ["schedule_session"]
        c01.session("仍无结果", "no_agreement")
    c01.do("terminate_mediation", termination_reason="调解不成", legal_routes_informed="true")
    close(services, c01, "R5")


def test_a_joint_handling_that_resolved_the_dispute_goes_to_the_report_not_to_mediation(
        services, c01):
    """The property company fixed the leak (联合办理结论 已解决): nobody is asked whether they
    want mediation; the lead reports the case resolved by administrative action."""
    c01.do("sign_off", sign_off_decision="accept")
    c01.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    c01.do("co_sign_off", "WY", co_sign_off_decision="accept")
    c01.do("co_handle", "WY", co_result="物业已修复排水管", co_result_status="done")
    c01.do("lead_consolidate", joint_result="物业已修复，双方无争议", joint_outcome="resolved")

    assert c01.ids() == ["submit_result"]
    close(services, c01, "R2")
