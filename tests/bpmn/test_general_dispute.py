"""(a) general_dispute: screening, de-duplication, triage, dispatch, feedback, closure and reopening."""

from __future__ import annotations

import pytest

from engine.clock import use_clock
from engine.deadlines import SHANGHAI
from engine.errors import MessageNotExpected, TaskNotReady
from tests.bpmn.helpers import (
    Driver,
    contact,
    days,
    finish_and_close,
    local,
    register,
    sign_off,
)


def single_department_case(**data) -> Driver:
    """A case the routing table cannot place: the triage officer confirms a single department."""
    d = Driver(category="other", **data)
    register(d, category="other", summary="小区门口占道经营")
    d.complete("confirm_triage", tier="street", department="CG", risk_level="blue", handling="generic",
               triage_note="属城管职责")
    return d


def test_emergency_is_transferred_and_ends_without_follow_up():
    d = Driver()
    register(d, emergency="true", urgency="urgent")
    assert d.ready() == ["emergency_transfer"]
    d.complete("emergency_transfer", transfer_target="110", transfer_ref="110-0303-01", follow_up_required="false")
    assert d.completed and "end_transferred" in d.end_events()


def test_emergency_follow_up_is_routed_to_the_community_within_two_hours():
    d = Driver()
    register(d, emergency="true", urgency="urgent")
    d.complete("emergency_transfer", transfer_target="120", transfer_ref="120-0303-02",
               follow_up_required="true")
    triage = d.task("confirm_triage").data
    assert (triage["tier"], triage["department"], triage["response_deadline"]) == ("community", "SQ", "PT2H")
    d.complete("confirm_triage", tier="community", department="SQ", risk_level="yellow", handling="generic",
               triage_note="社区跟进")
    assert d.timers()["签收超时"] == local(2025, 3, 3, 12, 20).astimezone(SHANGHAI)


def test_statutory_channel_is_routed_with_written_guidance():
    d = Driver()
    register(d, statutory_channel="true")
    d.complete("statutory_guidance", statutory_route="arbitration", statutory_guidance_text="向区劳动仲裁委申请")
    assert d.completed and "end_routed" in d.end_events()
    assert d.notified("statutory_guidance")[0]["to"] == "applicant"


@pytest.mark.parametrize(("decision", "end"), [("duplicate", "end_duplicate"),
                                                ("second_complaint", "end_reopen_requested")])
def test_confirmed_duplicate_creates_no_work_order(decision, end):
    d = Driver(duplicate_candidates=["JF-2025-000007"])
    register(d)
    d.complete("confirm_duplicate", duplicate_decision=decision, master_case_no="JF-2025-000007")
    assert d.completed and end in d.end_events()


def test_dissimilar_candidate_continues_as_a_new_case():
    d = Driver(duplicate_candidates=["JF-2025-000007"])
    register(d)
    d.complete("confirm_duplicate", duplicate_decision="new")
    assert d.ready() == ["sign_off"]


def test_single_department_case_runs_to_archive_after_the_watch_window():
    d = single_department_case()
    assert d.task("sign_off").data["department"] == "CG"
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="约谈经营者，已清理占道")
    finish_and_close(d)
    assert d.notified("result_reply") and d.notified("case_closed")
    assert not d.ready() and not d.completed
    d.advance(days(29))
    assert not d.completed
    d.advance(days(1.01))
    assert d.completed and "end_archived" in d.end_events()
    assert d.data()["satisfaction"] == "satisfied"


def test_department_returns_the_order_and_triage_redispatches():
    d = single_department_case()
    d.complete("sign_off", sign_off_decision="return", return_reason="非本部门职责", return_basis="职责清单第12项")
    assert d.ready() == ["redispatch"]
    d.complete("redispatch", department="JD", redispatch_note="改派属地街道")
    assert d.task("sign_off").data["department"] == "JD"


def test_sign_off_warning_at_75_percent_and_breach_escalates_then_reopens_sign_off():
    d = single_department_case()
    d.advance(hours=18, minutes=1)
    assert d.notified("sign_off_reminder")[0]["to"] == "lead_department"
    assert d.ready() == ["sign_off"]
    d.advance(hours=6)
    assert d.notified("reminder"), "L0 催办 after the first breach"
    view = d.task("sign_off")
    assert view.data["escalation_level"] == "L0" and view.data["response_deadline"] == "PT24H"


def test_late_sign_off_loses_to_the_deadline():
    d = single_department_case()
    view = d.task("sign_off")
    d.clock.advance(hours=24, seconds=1)
    with use_clock(d.clock), pytest.raises(TaskNotReady):
        d.inst.complete(view.id, {"sign_off_decision": "accept"})
    assert d.notified("reminder")


def test_contact_deadline_breach_escalates_without_stopping_the_handler():
    d = single_department_case()
    sign_off(d)
    d.advance(days(3))  # Mon 10:20 + 2 working days -> due Wed 24:00
    assert d.notified("reminder")
    assert d.ready() == ["contact_citizen"]


def test_review_returns_the_result_for_rehandling():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="已处理")
    d.complete("submit_result", outcome="R2", result_summary="已责令清理")
    d.complete("review_result", review_decision="return", review_note="缺现场照片")
    assert d.ready() == ["handle_case"]


def test_rating_window_lapses_to_a_return_visit_and_dissatisfaction_is_rehandled():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="已处理")
    d.complete("submit_result", outcome="R2", result_summary="已责令清理")
    d.complete("review_result", review_decision="approve")
    d.advance(days(4))  # Mon + 3 working days
    assert d.ready() == ["return_visit"]
    d.complete("return_visit", satisfaction="dissatisfied", visit_note="问题反弹")
    d.complete("verify_dissatisfaction", dissatisfaction_cause="handling_unit", verification_note="未彻底清理")
    assert d.ready() == ["handle_case"]


def test_dissatisfaction_without_legal_basis_closes_as_explained():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="已解释")
    finish_and_close(d, rating="dissatisfied", outcome="R3")
    d.complete("verify_dissatisfaction", dissatisfaction_cause="no_legal_basis", verification_note="诉求无依据")
    assert d.notified("case_closed") and not d.ready()


def test_second_complaint_within_the_window_reopens_with_supervision():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="已处理")
    finish_and_close(d)
    d.advance(days(10))
    d.deliver("reopen", {"channel": "hotline_12345", "received_at": "2025-03-14T10:00:00+08:00"})
    assert d.ready() == ["issue_supervision"]
    view = d.task("issue_supervision")
    assert (view.data["second_complaint"], view.data["tier"], view.data["risk_level"]) == (True, "district",
                                                                                          "yellow")
    d.complete("issue_supervision", supervision_note="二次投诉，限期整改", listed_in_weekly_review="true")
    d.complete("reply_supervision", supervision_reply="已复查", corrective_commitment="三日内整改")
    assert d.task("sign_off").data["escalation_level"] == "L1"


def test_no_reopen_after_archive():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.complete("handle_case", handling_record="已处理")
    finish_and_close(d)
    d.advance(days(31))
    with pytest.raises(MessageNotExpected):
        d.deliver("reopen", {"channel": "portal"})


def test_risk_raised_during_handling_recolours_and_escalates_in_parallel():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.deliver("risk_raised", {"level": "red", "reason": "扬言聚集"})
    assert ("raise_risk", {"level": "red", "reason": "扬言聚集"}) in d.calls
    assert d.ready() == ["handle_case", "leader_take_charge"]


def test_red_case_is_dispatched_while_the_leader_takes_charge():
    d = Driver(category="other")
    register(d, category="other", urgency="urgent")
    d.complete("confirm_triage", tier="district", department="GA", risk_level="red", handling="generic",
               triage_note="扬言自伤")
    assert d.ready() == ["leader_take_charge", "sign_off"]
    assert ("raise_risk", {"level": "red", "reason": "triage_red"}) in d.calls
    assert d.task("sign_off").data["response_deadline"] == "PT2H"


def test_risk_can_be_raised_more_than_once_while_handling():
    d = single_department_case()
    sign_off(d)
    contact(d)
    d.deliver("risk_raised", {"level": "yellow", "reason": "情绪激动"})
    d.deliver("risk_raised", {"level": "orange", "reason": "多人聚集"})
    assert [p["level"] for op, p in d.calls if op == "raise_risk"] == ["yellow", "orange"]
    assert "handle_case" in d.ready()
