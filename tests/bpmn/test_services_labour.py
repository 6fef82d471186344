"""Service-level walks of labour disputes: C03 (collective wage arrears, joint dispatch with a
return, mediation failing at day 15 -> arbitration) and C04 (individual, agreement, payment)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.events import record_rating
from workflows.intake.register import IntakeRequest

C03_CO = ["ZJ", "FY", "JR", "GH", "GA", "SF"]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def c03_request() -> IntakeRequest:
    reps = [PartyInput(name=n, id_number=IDS[n], phone=p) for n, p in
            (("马德顺", "13700000001"), ("韦春生", "13700000002"), ("杨光荣", "13700000003"))]
    return IntakeRequest(channel="counter", category="labour_collective", urgency="urgent",
                         people_count=14, summary="14名钢筋工被拖欠工资38.6万元",
                         description="我们14名工人在宏基建设承建的新港产业园二期项目做钢筋工……",
                         parties=[*reps, PartyInput(name="宏基建设工程有限公司", role="respondent")])


@pytest.fixture
def c03(services, clock) -> Walk:
    clock.set(local(2025, 3, 10, 9, 30))
    walk = Walk.ready(services, clock)
    walk.intake(**vars(c03_request()))
    walk.do("register", category="labour_collective", urgency="urgent", people_count="14",
            summary="集体欠薪，工人表示将到项目大门聚集")
    return walk


def test_c03_joint_dispatch_with_a_return_and_arbitration_after_15_days(services, c03, clock):
    walk = c03
    summary = walk.summary()
    assert (summary["tier"], summary["lead_department"]["code"], summary["risk_level"]) == \
        ("district", "RS", "orange")
    walk.do("confirm_triage", tier="district", department="RS", risk_level="orange",
            handling="labour", triage_note="群体欠薪，维持路由")
    assert walk.task("sign_off", "RS")["due_at"] == local(2025, 3, 10, 11, 30)   # T-01a 2 h
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="与工人代表面谈")
    walk.do("request_evidence", evidence_items="工人名册、工资台账、分包合同", evidence_status="partial")
    assert sorted(t["dept"] for t in walk.open() if t["bpmn_id"] == "co_sign_off") == sorted(C03_CO)
    # the bank returns its order (not its duty without city-level approval); triage agrees
    walk.do("co_sign_off", "JR", co_sign_off_decision="return",
            co_return_reason="查询账户须经市级人社部门批准", co_return_basis="保障农民工工资支付条例第40条")
    walk.do("review_co_return", co_return_review="accept_return", co_return_review_note="退单成立")
    for dept in (d for d in C03_CO if d != "JR"):
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
        walk.do("co_handle", dept, co_result=f"{dept} 已按分工办理", co_result_status="done")
    orders = {o[0]: o[3] for o in walk.orders()}
    assert orders["JR"] == "returned" and orders["RS"] == "in_progress"
    assert all(orders[d] == "done" for d in C03_CO if d != "JR")
    walk.do("inspection_filing", inspection_accepted="true", inspection_ref="RS-JC-2025-031")
    mediator = walk.user("mediator", "RS")
    walk.do("register_labour_mediation", actor=mediator, mediation_application_date="2025-03-10",
            trade_union_present="true", mediation_claims="支付1-2月工资38.6万元")
    limit = walk.task("labour_mediation")
    assert limit["due_at"] == local(2025, 3, 26, 0, 0)          # T-04: 15 days -> 03-25 24:00
    walk.until(local(2025, 3, 25, 23, 0))
    assert "labour_mediation" in walk.ids()
    walk.until(local(2025, 3, 26, 0, 5))                       # no agreement by day 15
    assert "prepare_arbitration" in walk.ids() and "labour_mediation" not in walk.ids()
    walk.do("prepare_arbitration", arbitration_applied="true", legal_aid_provided="true",
            arbitration_application_date="2025-03-26")
    walk.do("inspection_result", payment_ordered="true", wages_paid="unpaid",
            enforcement_applied="true", blacklist_proposed="true", criminal_referral="false")
    walk.do("lead_consolidate", joint_result="住建冻结工资保证金，公安约谈班组长",
            joint_outcome="partly_resolved")
    walk.do("submit_result", outcome="R4", result_summary="已申请仲裁并申请强制执行")
    walk.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="basically_satisfied")
    summary = walk.summary()
    assert (summary["status"], summary["outcome"]) == ("closed", "R4")
    assert {d["code"] for d in summary["co_departments"]} == set(C03_CO)


def test_c03_with_orders_signed_out_of_order_replays(services, c03):
    """Co-department orders (index None inside the co_orders call activity) replay by `dept`."""
    walk = c03
    walk.do("confirm_triage", tier="district", department="RS", risk_level="orange",
            handling="labour", triage_note="维持")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="面谈")
    walk.do("request_evidence", evidence_items="名册", evidence_status="received")
    walk.do("co_sign_off", "JR", co_sign_off_decision="accept")      # not the first in the list
    assert walk.replays().startswith("verified")


def test_c04_individual_labour_agreement_and_payment(services, clock):
    clock.set(local(2025, 9, 30, 16, 40))
    walk = Walk.ready(services, clock)
    walk.intake(channel="portal", category="labour", summary="解除劳动合同未支付经济补偿",
                description="本人在星辰电子科技有限公司工作三年……",
                parties=[PartyInput(name="郑雅琪", id_number=IDS["郑雅琪"], phone="13600000000"),
                         PartyInput(name="星辰电子科技有限公司", role="respondent")])
    walk.do("register", category="labour", urgency="general", people_count="1",
            summary="经济补偿")
    summary = walk.summary()
    assert (summary["tier"], summary["lead_department"]["code"]) == ("street", "JDLT")
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.task("contact_citizen")["due_at"] == local(2025, 10, 11, 0, 0)  # 2 WD over 国庆
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("request_evidence", evidence_items="劳动合同、工资流水", evidence_status="received")
    assert "inspection_filing" not in walk.ids()           # inspection only when 人社 leads
    walk.do("co_sign_off", "RS", co_sign_off_decision="accept")
    walk.do("co_handle", "RS", co_result="提供法律咨询", co_result_status="done")
    walk.do("lead_consolidate", joint_result="人社已提供咨询", joint_outcome="resolved")
    mediator = walk.user("mediator", "JDLT")
    walk.do("register_labour_mediation", actor=mediator, mediation_application_date="2025-09-30",
            trade_union_present="false", mediation_claims="经济补偿及离职证明")
    assert walk.task("labour_mediation")["due_at"] == local(2025, 10, 16, 0, 0)  # 15 days: 10-15
    walk.do("labour_mediation", actor=mediator, labour_mediation_record="双方同意",
            labour_mediation_result="agreement")
    walk.do("labour_agreement", actor=mediator, payment_schedule="公司10日内支付经济补偿3万元",
            labour_agreement_signed="true", payment_period="statutory_days(7)")
    walk.until(local(2025, 10, 9, 23, 0))   # 7 days end 10-07 in 国庆 (10-1..8): 10-09 24:00
    assert walk.ids() == []
    walk.until(local(2025, 10, 10, 9, 0))
    walk.do("payment_check", actor=mediator, agreement_paid="unpaid", payment_check_note="未付")
    walk.do("payment_order_guidance", unpaid_route="payment_order", legal_aid_referred="true")
    walk.do("submit_result", outcome="R1", result_summary="达成协议，未履行部分已引导申请支付令")
    walk.do("review_result", review_decision="approve")
    walk.advance(days=6)
    walk.do("return_visit", satisfaction="satisfied")
    assert walk.summary()["status"] == "closed"


@pytest.mark.parametrize("result", ["refused", "agreement_paid"])
def test_labour_mediation_refused_or_paid(services, clock, result):
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
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
    mediator = walk.user("mediator", "JDLT")
    walk.do("register_labour_mediation", actor=mediator, mediation_application_date="2025-03-03",
            trade_union_present="true", mediation_claims="工资")
    if result == "refused":
        walk.do("labour_mediation", actor=mediator, labour_mediation_record="公司拒绝调解",
                labour_mediation_result="refused")
        walk.do("prepare_arbitration", arbitration_applied="true", legal_aid_provided="false")
    else:
        walk.do("labour_mediation", actor=mediator, labour_mediation_record="达成",
                labour_mediation_result="agreement")
        walk.do("labour_agreement", actor=mediator, payment_schedule="一次付清",
                labour_agreement_signed="true", payment_period="statutory_days(7)")
        walk.advance(days=12)
        walk.do("payment_check", actor=mediator, agreement_paid="paid", payment_check_note="已付")
    walk.do("submit_result", outcome="R4" if result == "refused" else "R1", result_summary="办结")
    walk.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="satisfied")
    assert walk.summary()["status"] == "closed"
