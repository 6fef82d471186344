"""(e) escalation: 催办 L0 -> 督办 L1 -> 升级 L2 -> 领导包案 L3, each returning a new deadline."""

from __future__ import annotations

from tests.bpmn.helpers import Driver, local, register


def unsigned_case() -> Driver:
    """A single-department case whose department never signs off (Mon 2025-03-03 10:20)."""
    d = Driver(category="other")
    register(d, category="other", summary="占道经营")
    d.complete("confirm_triage", tier="street", department="CG", risk_level="blue", handling="generic",
               triage_note="城管")
    return d


def test_repeated_sign_off_breaches_climb_the_ladder():
    d = unsigned_case()
    d.advance(hours=24, seconds=1)
    assert len(d.notified("reminder")) == 1
    assert d.task("sign_off").data["escalation_level"] == "L0"

    d.advance(hours=24, seconds=1)  # the L0 grace of 24 h passes
    assert "issue_supervision" in d.ready()
    d.complete("issue_supervision", supervision_note="限1个工作日书面说明", listed_in_weekly_review="true")
    d.complete("reply_supervision", supervision_reply="人员不足", corrective_commitment="明日签收")
    view = d.task("sign_off")
    assert (view.data["escalation_level"], view.data["response_deadline"]) == ("L1", "working_days(1)")

    d.until(local(2025, 3, 7, 0, 1))  # 1 working day after Wed 03-05
    assert d.notified("upgrade_notice")[0]["to"] == "leader"
    view = d.task("sign_off")
    assert (view.data["escalation_level"], view.data["tier"]) == ("L2", "district")

    d.until(local(2025, 3, 11, 0, 1))  # 1 working day after Fri 03-07 -> Mon 03-10 24:00
    assert d.ready() == ["leader_take_charge"]
    d.advance(hours=24, seconds=1)
    assert d.notified("leadership_reminder"), "T-54 reminder branch ends before the leader answers"
    d.complete("leader_take_charge", accept_charge="true", leader_instructions="约谈部门负责人",
               joint_meeting_required="false", response_deadline="working_days(3)")
    view = d.task("sign_off")
    assert (view.data["escalation_level"], view.data["response_deadline"]) == ("L3", "working_days(3)")


def test_unanswered_supervision_notice_upgrades_within_the_same_call():
    d = unsigned_case()
    d.advance(hours=24, seconds=1)
    d.advance(hours=24, seconds=1)
    d.complete("issue_supervision", supervision_note="限期说明", listed_in_weekly_review="false")
    assert d.ready() == ["reply_supervision"]
    d.until(local(2025, 3, 7, 0, 1))  # T-53: 1 working day
    assert d.notified("upgrade_notice")
    view = d.task("sign_off")
    assert (view.data["escalation_level"], view.data["tier"]) == ("L2", "district")


def test_leadership_reminders_and_joint_meeting():
    d = Driver(category="other")
    register(d, category="other", urgency="urgent")
    d.complete("confirm_triage", tier="district", department="GA", risk_level="red", handling="generic",
               triage_note="扬言极端行为")
    d.advance(hours=24, seconds=1)
    assert d.notified("leadership_reminder"), "T-54: risk report within 24 h"
    d.complete("leader_take_charge", accept_charge="true", leader_instructions="召开会商",
               joint_meeting_required="true", response_deadline="PT24H")
    d.advance(hours=72, seconds=1)
    assert d.notified("joint_meeting_reminder")[0]["to"] == "supervisor", "T-55: meeting within 72 h"
    d.complete("joint_meeting", meeting_minutes="公安、街道、司法局会商", action_items="街道24小时稳控")
    assert "joint_meeting" not in d.ready()
