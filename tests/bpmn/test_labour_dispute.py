"""(c) labour_dispute: joint dispatch led by 人社, labour inspection, and the 15-day mediation limit."""

from __future__ import annotations

from tests.bpmn.helpers import Driver, co_orders_done, contact, days, local, register, sign_off

COLLECTIVE_CO = ["FY", "GA", "GH", "JR", "SF", "ZJ"]


def collective_wage_arrears() -> Driver:
    """C03: 14 rebar workers, 宏基建设, walk-in 2025-03-10 09:30, threat to gather at the site gate."""
    d = Driver(at=local(2025, 3, 10, 9, 30), category="labour_collective", urgency="urgent", people_count=14)
    register(d, category="labour_collective", urgency="urgent", people_count="14", summary="拖欠工资38.6万元")
    view = d.task("confirm_triage")
    assert (view.data["department"], view.data["risk_level"], view.data["tier"]) == ("RS", "orange", "district")
    d.complete("confirm_triage", tier="district", department="RS", risk_level="orange", handling="labour",
               triage_note="群体欠薪，橙色")
    assert d.timers()["签收超时"] == local(2025, 3, 10, 11, 30)
    sign_off(d)
    contact(d)
    d.complete("request_evidence", evidence_items="工人名册、工资台账", evidence_status="partial")
    return d


def test_collective_case_runs_inspection_mediation_and_joint_dispatch_in_parallel():
    d = collective_wage_arrears()
    assert d.ready() == ["co_sign_off"] * 6 + ["inspection_filing", "register_labour_mediation"]
    assert sorted(v.data["dept"] for v in d.tasks("co_sign_off")) == COLLECTIVE_CO
    assert d.timers()["受理期限"] == local(2025, 3, 18, 0, 0), "5 working days -> Mon 03-17 24:00"


def test_mediation_without_agreement_after_15_days_goes_to_arbitration():
    d = collective_wage_arrears()
    co_orders_done(d)
    d.complete("register_labour_mediation", mediation_application_date="2025-03-10", trade_union_present="true",
               mediation_claims="支付1—2月工资")
    assert d.timers()["调解期限届满"] == local(2025, 3, 26, 0, 0), "15 days -> Tue 03-25 24:00"
    d.advance(days(11))
    assert d.notified("labour_mediation_reminder"), "day-10 reminder"
    assert "labour_mediation" in d.ready()
    d.until(local(2025, 3, 26, 0, 1))
    assert "labour_mediation" not in d.ready() and "prepare_arbitration" in d.ready()
    d.complete("prepare_arbitration", arbitration_applied="true", legal_aid_provided="true",
               arbitration_application_date="2025-03-27", legal_route="none")
    d.complete("inspection_filing", inspection_accepted="true", inspection_ref="JC-2025-031")
    d.complete("inspection_result", payment_ordered="true", wages_paid="unpaid", enforcement_applied="true",
               blacklist_proposed="true", criminal_referral="false")
    d.complete("lead_consolidate", joint_result="住建已冻结工资专户", joint_outcome="partly_resolved")
    assert d.ready() == ["submit_result"]


def test_inspection_deadlines_are_reminded():
    d = collective_wage_arrears()
    co_orders_done(d)
    d.advance(days(8))
    assert d.notified("inspection_filing_due")
    d.complete("inspection_filing", inspection_accepted="true", inspection_ref="JC-2025-031")
    assert d.timers()["调查期限"] == local(2025, 6, 17, 0, 0), "60 working days from 03-18"
    d.until(local(2025, 6, 17, 0, 1))
    assert d.notified("inspection_due")


def test_employer_evidence_request_is_reminded_after_three_working_days():
    d = Driver(at=local(2025, 3, 10, 9, 30), category="labour")
    register(d, category="labour", summary="欠薪")
    sign_off(d)
    contact(d)
    d.until(local(2025, 3, 13, 23, 0))
    assert not d.notified("evidence_overdue")
    d.until(local(2025, 3, 14, 0, 1))
    assert d.notified("evidence_overdue")[0]["to"] == "lead_department"
    assert d.ready() == ["request_evidence"]


def test_individual_case_mediates_on_the_street_and_skips_inspection():
    """C04: severance, online report Tue 2025-09-30 16:40, across the National Day holidays."""
    d = Driver(at=local(2025, 9, 30, 16, 40), category="labour")
    register(d, category="labour", summary="解除劳动合同未支付经济补偿")
    view = d.task("sign_off")
    assert (view.data["department"], view.data["co_departments"], view.data["risk_level"]) == ("JDLT", ["RS"],
                                                                                            "blue")
    sign_off(d)
    assert d.timers()["首次联系超时"] == local(2025, 10, 11, 0, 0), "Oct 9 = WD1, Oct 10 = WD2"
    contact(d)
    d.complete("request_evidence", evidence_items="劳动合同、工资条", evidence_status="received")
    assert d.ready() == ["co_sign_off", "register_labour_mediation"]
    d.complete("register_labour_mediation", mediation_application_date="2025-09-30", trade_union_present="false",
               mediation_claims="经济补偿、离职证明")
    assert d.timers()["调解期限届满"] == local(2025, 10, 16, 0, 0), "15 calendar days -> 10-15 24:00"


def test_agreement_unpaid_at_the_deadline_leads_to_a_payment_order():
    d = Driver(at=local(2025, 9, 30, 16, 40), category="labour")
    register(d, category="labour", summary="经济补偿")
    sign_off(d)
    contact(d)
    d.complete("request_evidence", evidence_items="劳动合同", evidence_status="received")
    d.complete("register_labour_mediation", mediation_application_date="2025-09-30", trade_union_present="false",
               mediation_claims="经济补偿")
    d.complete("labour_mediation", labour_mediation_record="达成一致", labour_mediation_result="agreement")
    d.complete("labour_agreement", payment_schedule="10月20日前支付2万元", labour_agreement_signed="true",
               payment_period="statutory_days(15)")
    d.advance(days(16))
    d.complete("payment_check", agreement_paid="unpaid", payment_check_note="未支付")
    d.complete("payment_order_guidance", unpaid_route="payment_order", legal_aid_referred="true")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="人社已约谈企业", joint_outcome="partly_resolved")
    assert d.ready() == ["submit_result"]


def test_refused_labour_mediation_goes_straight_to_arbitration():
    d = Driver(category="labour")
    register(d, category="labour", summary="加班费")
    sign_off(d)
    contact(d)
    d.complete("request_evidence", evidence_items="考勤记录", evidence_status="refused")
    d.complete("register_labour_mediation", mediation_application_date="2025-03-03", trade_union_present="false",
               mediation_claims="加班费")
    d.complete("labour_mediation", labour_mediation_record="企业拒绝调解", labour_mediation_result="refused")
    assert "prepare_arbitration" in d.ready()
    d.advance(days(51))
    assert d.notified("arbitration_tracking"), "T-05/T-06 informational tracking"


def test_paid_agreement_closes_the_mediation_branch_without_a_joint_order():
    d = Driver(category="other")
    register(d, category="other", summary="个人工资差额")
    d.complete("confirm_triage", tier="street", department="JDLT", risk_level="blue", handling="labour",
               triage_note="劳动争议调解")
    sign_off(d)
    contact(d)
    d.complete("request_evidence", evidence_items="工资条", evidence_status="received")
    assert d.ready() == ["register_labour_mediation"], "no inspection (lead is not 人社), no co-departments"
    d.complete("register_labour_mediation", mediation_application_date="2025-03-03", trade_union_present="false",
               mediation_claims="工资差额")
    d.complete("labour_mediation", labour_mediation_record="达成协议", labour_mediation_result="agreement")
    d.complete("labour_agreement", payment_schedule="7日内支付", labour_agreement_signed="true",
               payment_period="statutory_days(7)")
    d.advance(days(8))
    d.complete("payment_check", agreement_paid="paid", payment_check_note="已支付")
    assert d.ready() == ["submit_result"]
