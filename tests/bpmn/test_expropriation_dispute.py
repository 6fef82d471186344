"""(d) expropriation_dispute: stage detection, red-flag path, joint dispatch, rights-window reminders."""

from __future__ import annotations

from tests.bpmn.helpers import Driver, co_orders_done, contact, days, local, register, sign_off

EXPRO_CO = ["JD", "PG", "SF", "XF"]


def expropriation_case(urgency="urgent", people=1, **start) -> Driver:
    """C05 by default: evaluation objection, petition transfer Mon 2025-05-19 10:00."""
    d = Driver(at=start.pop("at", local(2025, 5, 19, 10, 0)), category="expropriation", urgency=urgency,
               people_count=people)
    register(d, category="expropriation", urgency=urgency, people_count=str(people), summary="评估面积少算")
    return d


def to_stage(d: Driver, stage: str, **flags: str) -> None:
    sign_off(d)
    contact(d)
    d.complete("detect_stage", expropriation_stage=stage, red_flag_forced_relocation=flags.get("forced", "false"),
               red_flag_blockade=flags.get("blockade", "false"), key_date="2025-05-12")


def test_evaluation_objection_is_guided_and_negotiated_to_an_agreement():
    d = expropriation_case()
    view = d.task("sign_off")
    assert (view.data["department"], view.data["risk_level"], view.data["response_deadline"]) == ("ZJ", "yellow",
                                                                                                  "PT2H")
    to_stage(d, "evaluation")
    assert sorted(v.data["dept"] for v in d.tasks("co_sign_off")) == EXPRO_CO
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="司法局释明复核程序", joint_outcome="partly_resolved")
    d.advance(days(11))
    assert d.notified("rights_window")[0]["to"] == "applicant", "T-20 re-check window"
    d.until(local(2025, 6, 3, 23, 59))
    assert len(d.notified("rights_window")) == 1, \
        "20 days from the typed key date 05-12 end on Sun 06-01 (Dragon Boat holiday), extended to Tue 06-03"
    d.until(local(2025, 6, 4, 0, 1))
    assert len(d.notified("rights_window")) == 2, "T-21 + T-22 appraisal window"
    d.complete("evaluation_objection", recheck_requested="true", appraisal_requested="false",
               evaluation_follow_up="复核后面积更正")
    d.complete("negotiate_compensation", compensation_items_checked="房屋价值、搬迁费、临时安置费",
               compensation_agreed="agreed")
    d.complete("compensation_agreement", compensation_agreement_signed="true",
               compensation_agreement_summary="货币补偿，30日内支付")
    assert d.ready() == ["submit_result"]


def test_red_flags_raise_red_and_the_leader_takes_charge_alongside_the_joint_orders():
    """C06: planned road blockade by 23 households after the compensation decision (Thu 2025-06-26 19:10)."""
    d = expropriation_case(people=23, at=local(2025, 6, 26, 19, 10))
    assert d.task("confirm_triage").data["risk_level"] == "orange"
    d.complete("confirm_triage", tier="district", department="ZJ", risk_level="red", handling="expropriation",
               triage_note="计划明早堵路")
    assert d.timers()["签收超时"] == local(2025, 6, 26, 21, 10)
    d.complete("leader_take_charge", accept_charge="true", leader_instructions="连夜入户做工作",
               joint_meeting_required="false", response_deadline="PT24H")
    to_stage(d, "compensation_decision", blockade="true")
    assert ("raise_risk", {"level": "red", "reason": "expropriation_red_flag"}) in d.calls
    assert "leader_take_charge" in d.ready()
    assert sorted(v.data["dept"] for v in d.tasks("co_sign_off")) == sorted([*EXPRO_CO, "GA"])
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="公安现场稳控", joint_outcome="partly_resolved")
    d.complete("rights_notice", rights_notice_delivered="true", household_action="none",
               rights_follow_up="已送达权利告知书")
    assert d.ready() == ["leader_take_charge"], "the join waits for the leader's branch"
    d.complete("leader_take_charge", accept_charge="true", leader_instructions="依法释明权利",
               joint_meeting_required="true", response_deadline="working_days(3)")
    d.complete("joint_meeting", meeting_minutes="会商纪要", action_items="街道负责稳控")
    assert d.ready() == ["submit_result"]


def test_rights_windows_are_reminders_only():
    d = expropriation_case(urgency="general")
    to_stage(d, "compensation_decision")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="已释明", joint_outcome="partly_resolved")
    d.advance(days(61))
    assert len(d.notified("rights_window")) == 1, "T-24 review window"
    assert d.ready() != [] and "rights_notice" in d.ready()
    d.advance(days(130))
    assert len(d.notified("rights_window")) == 2, "T-26 litigation window"


def test_negotiation_without_agreement_still_completes_the_stage():
    d = expropriation_case(urgency="general")
    to_stage(d, "negotiation")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="协商中", joint_outcome="unresolved")
    d.complete("negotiate_compensation", compensation_items_checked="产权调换面积", compensation_agreed="not_agreed")
    assert d.ready() == ["submit_result"]


def test_illegal_enforcement_is_red_and_goes_to_the_leader():
    d = expropriation_case(urgency="general")
    to_stage(d, "enforcement")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="核查", joint_outcome="unresolved")
    d.complete("check_enforcement", compensated_first="false", court_enforcement_applied="false",
               illegal_enforcement="true")
    assert ("raise_risk", {"level": "red", "reason": "illegal_enforcement"}) in d.calls
    assert d.ready() == ["leader_take_charge"]
    d.complete("leader_take_charge", accept_charge="true", leader_instructions="立即制止违法强拆",
               joint_meeting_required="false", response_deadline="PT24H")
    assert d.ready() == ["submit_result"]


def test_enforcement_window_is_reminded_and_lawful_enforcement_completes():
    d = expropriation_case(urgency="general")
    to_stage(d, "enforcement")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="核查", joint_outcome="partly_resolved")
    d.advance(days(93))
    assert d.notified("enforcement_window")
    d.complete("check_enforcement", compensated_first="true", court_enforcement_applied="true",
               illegal_enforcement="false")
    assert d.ready() == ["submit_result"]


def test_breach_and_other_stages_are_explained():
    for stage, task, form in [("agreement_breach", "agreement_breach_guidance", {"breach_guidance": "告知起诉"}),
                              ("survey", "explain_policy", {"policy_explanation": "释明调查登记程序"})]:
        d = expropriation_case(urgency="general")
        to_stage(d, stage)
        co_orders_done(d)
        d.complete("lead_consolidate", joint_result="已释明", joint_outcome="resolved")
        d.complete(task, **form)
        assert d.ready() == ["submit_result"]


def test_overdue_handling_climbs_the_ladder_until_the_work_is_done():
    d = expropriation_case(urgency="general")
    to_stage(d, "survey")
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="已释明", joint_outcome="resolved")
    d.advance(days(16))  # 15 days (statutory_days) from the start of handling
    assert d.notified("reminder"), "L0 催办"
    d.advance(days(1.1))
    assert "issue_supervision" in d.ready(), "L1 督办 after the 24 h grace"
    d.complete("explain_policy", policy_explanation="已释明")
    assert d.ready() == ["submit_result"], "finishing the work withdraws the open supervision (办结销号)"
    d.advance(days(30))
    assert d.ready() == ["submit_result"] and len(d.notified("reminder")) == 1
