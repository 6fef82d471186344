"""(b) people_mediation: consent, mediator, sessions, written / oral agreement, judicial confirmation."""

from __future__ import annotations

from engine.deadlines import SHANGHAI
from tests.bpmn.helpers import Driver, co_orders_done, contact, days, local, register, sign_off


def neighbour_mediation(at=None) -> Driver:
    """C01: water leak between flats 402 and 502 (东湖街道), reported by a grid worker."""
    d = Driver(at=at)
    register(d)
    sign_off(d)
    contact(d)
    co_orders_done(d)  # 物业 inspects the riser pipe first
    d.complete("lead_consolidate", joint_result="物业已查明立管完好", joint_outcome="partly_resolved")
    return d


def consent_and_assign(d: Driver) -> None:
    d.complete("confirm_consent", consent="both_agree", consent_note="双方同意")
    d.complete("assign_mediator", mediator_id="mediator1", mediator_chosen_by="committee",
               conflict_check="no_conflict", experts_invited="true")
    d.complete("register_mediation", rights_notice_acknowledged="true", mediation_publicity="non_public",
               mediation_registration_note="漏水赔偿")


def schedule(d: Driver, day: str = "2025-03-10") -> None:
    d.complete("schedule_session", session_mode="online", session_date=day, session_start="09:00",
               session_end="10:30", meeting_link="https://meeting.example.cn/j/1")


def session(d: Driver, next_step: str, *, applicant: str = "in_person", respondent: str = "online") -> None:
    """One session: scheduled, both sides attend, the record says what comes next."""
    schedule(d)
    d.complete("record_attendance", applicant_attendance=applicant, respondent_attendance=respondent)
    d.complete("mediation_session", session_record="第一次调解", session_next=next_step)


def written_agreement(d: Driver, jc: bool, period: str = "statutory_days(15)") -> None:
    session(d, "agreement")
    d.complete("choose_agreement_form", agreement_form="written")
    d.complete("draft_agreement", agreement_facts="502室防水层破损致402室渗漏", agreement_disputed_matters="维修与赔偿",
               agreement_responsibilities="502室承担主要责任", agreement_terms="502室修复防水并赔偿4000元",
               performance_manner="银行转账", performance_period=period, jc_intended="true" if jc else "false")


def sign_all(d: Driver, day: str) -> None:
    d.complete("sign_agreement", signing_outcome="signed", parties_signed="true", mediator_signed="true",
               committee_sealed="true", agreement_effective_date=day)


def test_written_agreement_with_judicial_confirmation_and_performance():
    d = neighbour_mediation()
    consent_and_assign(d)
    assert d.task("schedule_session").data["mediator_id"] == "mediator1"
    written_agreement(d, jc=True)
    d.until(local(2025, 3, 20, 15, 0))
    sign_all(d, "2025-03-20")
    assert d.timers()["司法确认申请期届满"] == local(2025, 4, 22, 0, 0).astimezone(SHANGHAI), \
        "30 days from 03-20 end on Sat 04-19, extended to Mon 04-21 24:00"
    d.complete("prepare_jc", jc_joint_application="true", jc_court="domicile_court", jc_filed_on="2025-03-20")
    d.advance(days(19))
    assert d.notified("jc_court_follow_up"), "T-03b: court decision period passed (informational)"
    d.complete("record_jc_decision", jc_result="confirmed")
    assert d.timers()["履行期限"] == local(2025, 4, 24, 0, 0).astimezone(SHANGHAI), "15 days from 04-08"
    d.until(local(2025, 4, 24, 0, 1))
    d.complete("performance_check", performed="performed", performance_note="已修复并赔偿")
    assert d.ready() == ["submit_result"]


def test_judicial_confirmation_window_lapses_with_reminders():
    d = neighbour_mediation()
    consent_and_assign(d)
    written_agreement(d, jc=True)
    d.until(local(2025, 3, 20, 15, 0))
    sign_all(d, "2025-03-20")
    d.until(local(2025, 4, 9, 15, 1))
    assert len(d.notified("jc_window_reminder")) == 1, "day 20"
    d.until(local(2025, 4, 16, 15, 1))
    assert len(d.notified("jc_window_reminder")) == 2, "day 27"
    d.until(local(2025, 4, 21, 23, 59))
    assert d.ready() == ["prepare_jc"]
    d.until(local(2025, 4, 22, 0, 1))
    assert d.ready() == [] and "履行期限" in d.timers(), "window lapsed: parties may still sue"


def test_oral_agreement_is_effective_the_day_it_is_reached_and_unpaid_performance_is_urged():
    d = neighbour_mediation()
    consent_and_assign(d)
    session(d, "agreement")
    d.complete("choose_agreement_form", agreement_form="oral")
    d.complete("record_oral_agreement", oral_agreement_content="502室三日内修复", agreement_effective_date="2025-03-03",
               performance_period="statutory_days(7)")
    d.advance(days(8))
    d.complete("performance_check", performed="not_performed", performance_note="尚未修复")
    d.complete("urge_performance", urge_record="电话督促", legal_route_informed="true")
    assert d.ready() == ["submit_result"]


def test_refusal_of_consent_ends_mediation_with_a_legal_route_notice():
    d = neighbour_mediation()
    d.complete("confirm_consent", consent="refused", consent_note="502室明确拒绝调解")
    d.complete("refusal_notice", legal_route_notice="可向人民法院起诉")
    assert d.ready() == ["submit_result"]
    assert "end_refused" in d.end_events()


def test_conflict_of_interest_forces_another_mediator():
    d = neighbour_mediation()
    d.complete("confirm_consent", consent="both_agree", consent_note="同意")
    d.complete("assign_mediator", mediator_id="mediator2", mediator_chosen_by="parties",
               conflict_check="conflict", experts_invited="false")
    assert d.ready() == ["assign_mediator"]


def test_sessions_repeat_until_no_agreement_then_mediation_terminates():
    d = neighbour_mediation()
    consent_and_assign(d)
    session(d, "continue")
    session(d, "continue")
    session(d, "no_agreement")
    d.complete("terminate_mediation", termination_reason="赔偿金额差距大", legal_routes_informed="true", legal_route="none")
    assert d.ready() == ["submit_result"] and "end_failed" in d.end_events()


def test_one_month_target_reminds_then_continues_with_consent():
    d = neighbour_mediation()
    consent_and_assign(d)
    session(d, "continue")
    d.advance(days(26))
    assert d.notified("mediation_reminder")
    d.until(local(2025, 4, 4, 0, 1))  # 1 month from 03-03 ends 04-03 24:00
    d.complete("extension_consent", continue_agreed="true", extension_record="双方同意延长")
    assert d.ready() == ["schedule_session"], "a new month of sessions starts with scheduling"


def test_one_month_target_without_consent_terminates():
    d = neighbour_mediation()
    consent_and_assign(d)
    d.until(local(2025, 4, 4, 0, 1))
    d.complete("extension_consent", continue_agreed="false", extension_record="一方不同意")
    assert d.ready() == ["terminate_mediation"]


def test_agreement_is_effective_only_when_every_signature_and_the_seal_are_recorded():
    d = neighbour_mediation()
    consent_and_assign(d)
    written_agreement(d, jc=False)
    d.complete("sign_agreement", signing_outcome="signed", parties_signed="true", mediator_signed="true",
               committee_sealed="false", agreement_effective_date="2025-03-05")
    assert d.ready() == ["sign_agreement"]
    d.complete("sign_agreement", signing_outcome="refused", agreement_effective_date="2025-03-06")
    assert d.ready() == ["terminate_mediation"]


def test_reopened_mediation_case_runs_a_second_round_cleanly():
    d = neighbour_mediation()
    consent_and_assign(d)
    session(d, "agreement")
    d.complete("choose_agreement_form", agreement_form="oral")
    d.complete("record_oral_agreement", oral_agreement_content="三日内修复", agreement_effective_date="2025-03-03",
               performance_period="statutory_days(7)")
    d.advance(days(8))
    d.complete("performance_check", performed="performed", performance_note="已修复")
    d.complete("submit_result", outcome="R1", result_summary="口头协议已履行")
    d.complete("review_result", review_decision="approve")
    d.deliver("rating", "satisfied")
    d.advance(days(5))
    d.deliver("reopen", {"channel": "grid_app"})
    d.complete("issue_supervision", supervision_note="再次渗漏", listed_in_weekly_review="true")
    d.complete("reply_supervision", supervision_reply="复查", corrective_commitment="重新调解")
    sign_off(d)
    contact(d)
    co_orders_done(d)
    d.complete("lead_consolidate", joint_result="物业复查", joint_outcome="partly_resolved")
    consent_and_assign(d)
    session(d, "no_agreement")
    d.complete("terminate_mediation", termination_reason="一方不再同意", legal_routes_informed="true", legal_route="none")
    finish = d.data("submit_result")
    assert finish["second_complaint"] is True and finish["tier"] == "district"


def test_triage_may_send_an_unrouted_case_to_mediation_without_co_departments():
    d = Driver(category="other")
    register(d, category="other", summary="亲属之间借款纠纷")
    d.complete("confirm_triage", tier="community", department="SQTJ", risk_level="blue", handling="mediation",
               triage_note="适合人民调解")
    sign_off(d)
    contact(d)
    assert d.ready() == ["confirm_consent"], "no co-departments: straight to mediation"
    consent_and_assign(d)
    written_agreement(d, jc=False, period="statutory_days(7)")
    sign_all(d, "2025-03-03")
    assert "履行期限" in d.timers() and "prepare_jc" not in d.ready()
    d.advance(days(8))
    d.complete("performance_check", performed="performed", performance_note="已还款")
    assert d.ready() == ["submit_result"]


# -- scheduled sessions: attendance, no-show, cancellation ------------------------------------------
def test_every_session_task_carries_the_one_month_deadline_of_the_sessions():
    d = neighbour_mediation()
    consent_and_assign(d)
    due = d.task("schedule_session").due_at
    assert due == local(2025, 4, 4, 0, 0), "T-12 on the sub-process: 1 month from 03-03 ends 04-03 24:00"
    schedule(d)
    assert d.task("record_attendance").due_at == due
    d.complete("record_attendance", applicant_attendance="phone", respondent_attendance="in_person")
    assert d.task("mediation_session").due_at == due, "the deadline is not re-armed per session"


def test_a_no_show_branches_to_no_show_handling_and_a_new_session_is_scheduled():
    d = neighbour_mediation()
    consent_and_assign(d)
    schedule(d)
    d.complete("record_attendance", applicant_attendance="in_person", respondent_attendance="absent")
    assert d.ready() == ["handle_no_show"], "no record of a session that did not take place"
    d.complete("handle_no_show", session_next="continue", no_show_note="被申请人出差，同意改期")
    assert d.ready() == ["schedule_session"]
    session(d, "agreement")
    assert d.ready() == ["choose_agreement_form"]


def test_a_no_show_without_good_reason_terminates_the_mediation():
    d = neighbour_mediation()
    consent_and_assign(d)
    schedule(d)
    d.complete("record_attendance", applicant_attendance="absent", respondent_attendance="absent")
    d.complete("handle_no_show", session_next="terminate_requested", no_show_note="两次通知均未到场")
    assert d.ready() == ["terminate_mediation"]


def test_a_cancelled_booking_sends_the_mediator_back_to_scheduling():
    d = neighbour_mediation()
    consent_and_assign(d)
    schedule(d)
    assert "session_cancelled" in d.inst.waiting_messages()
    d.deliver("session_cancelled", {"session_id": 1})
    assert d.ready() == ["schedule_session"]
    assert "session_cancelled" not in d.inst.waiting_messages()
