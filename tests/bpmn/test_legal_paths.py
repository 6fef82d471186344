"""The legal paths after or outside mediation (petition, land-contract arbitration, labour award,
administrative review): every window at its edges, from the date the law names as typed by the
person recording it, across holidays and make-up working days, with the +30 extensions."""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.deadlines import SHANGHAI
from tests.bpmn.helpers import Driver, local, register


def shanghai(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=SHANGHAI)


def routed(route: str, at: datetime) -> Driver:
    """A matter registered as already in a statutory channel, routed at screening."""
    d = Driver(at=at)
    register(d, category="petition" if "petition" in route else "land_contract", statutory_channel="true",
             summary="已进入法定途径")
    d.complete("statutory_guidance", statutory_route=route, statutory_guidance_text="告知受理机关、程序和期限")
    return d


def edges(due: datetime) -> tuple[datetime, datetime]:
    """One minute before the due instant and one minute after."""
    return due - timedelta(minutes=1), due + timedelta(minutes=1)


# -- petition ---------------------------------------------------------------------------------------
def petition(at: datetime, received: str) -> Driver:
    d = routed("petition", at)
    d.complete("petition_stage_check", petition_stage="new")
    d.complete("petition_received", petition_received_on=received)
    return d


def test_other_routes_end_at_once_and_a_tracked_route_enters_its_path():
    d = routed("litigation", local(2025, 3, 3, 10))
    assert d.completed and "end_routed" in d.end_events()
    d = routed("petition", local(2025, 3, 3, 10))
    assert d.ready() == ["petition_stage_check"] and not d.completed


def test_t31_inform_or_transfer_runs_15_days_from_receipt_across_national_day():
    d = petition(local(2025, 9, 22, 10), received="2025-09-20")
    due = d.timers()["告知受理期限（15日）"]
    assert due == shanghai(2025, 10, 10), "day 15 is 10-05 (National Day 10-01..10-08): moved to Thu 10-09"
    before, after = edges(due)
    d.until(before)
    assert d.supervised() == []
    d.until(after)
    assert d.supervised() == [{"limit": "T-31", "to": "XF"}], "the body that missed its limit is supervised"
    assert d.ready() == ["petition_acceptance"], "a 督办 does not withdraw the task"


def test_t32_objection_to_a_transfer_is_five_working_days_counting_the_make_up_saturday():
    d = petition(local(2025, 9, 29, 10), received="2025-09-28")
    d.complete("petition_acceptance", petition_acceptance_decision="transferred", petition_informed_on="2025-09-30")
    due = d.timers()["转送异议期届满"]
    assert due == shanghai(2025, 10, 15), "Oct 9, 10, Sat 11 (make-up), 13, 14"
    before, after = edges(due)
    d.until(before)
    assert d.ready() == ["petition_transfer_objection"]
    d.until(after)
    assert d.ready() == ["petition_reply"], "no objection in time: deemed accepted"
    assert d.supervised() == [] and [c for c in d.calls if c[0] == "notify"] == [
        ("notify", {"template": "statutory_guidance", "to": "applicant", "dept": None})], "the law only informs"


def test_an_objection_sends_the_matter_back_for_a_new_decision():
    d = petition(local(2025, 3, 3, 10), received="2025-03-03")
    d.complete("petition_acceptance", petition_acceptance_decision="transferred", petition_informed_on="2025-03-03")
    d.complete("petition_transfer_objection", transfer_objection="objected")
    assert d.ready() == ["petition_acceptance"]


def test_t30_reply_and_its_extension_is_a_recorded_decision_not_an_edit():
    d = petition(local(2025, 3, 4, 10), received="2025-03-01")
    d.complete("petition_acceptance", petition_acceptance_decision="accepted", petition_informed_on="2025-03-03")
    assert d.timers()["办理期限（60日）"] == shanghai(2025, 5, 7), "day 60 is 05-02 (Labour Day 05-01..05-05)"
    d.until(local(2025, 4, 20, 10))
    d.complete("petition_reply", petition_reply_status="extended", petition_reply_on="2025-04-20")
    timers = d.timers()
    assert "办理期限（60日）" not in timers
    assert timers["延长后办理期限（90日）"] == shanghai(2025, 6, 4), \
        "90 days from 03-03 end Sun 06-01 (Dragon Boat 05-31..06-02): moved to Tue 06-03"
    d.until(local(2025, 6, 3, 23, 59))
    assert d.supervised() == []
    d.until(local(2025, 6, 4, 0, 1))
    assert d.supervised() == [{"limit": "T-30", "to": "XF"}]


def test_t33_review_request_window_reminds_then_the_reply_stands():
    d = petition(local(2025, 3, 4, 10), received="2025-03-01")
    d.complete("petition_acceptance", petition_acceptance_decision="accepted", petition_informed_on="2025-03-03")
    d.complete("petition_reply", petition_reply_status="replied", petition_reply_on="2025-03-04")
    timers = d.timers()
    assert timers["复查申请期提醒（第20日）"] == shanghai(2025, 3, 24, 9)
    assert timers["复查申请期届满"] == shanghai(2025, 4, 4), "30 days from 03-04 end Thu 04-03"
    d.until(local(2025, 3, 24, 9, 1))
    assert [n["to"] for n in d.notified("petition_review_window")] == ["applicant"]
    d.until(local(2025, 4, 3, 23, 59))
    assert d.ready() == ["review_request"]
    d.until(local(2025, 4, 4, 0, 1))
    assert d.completed and {"end_reply_final", "end_routed"} <= d.end_events()


def test_t33_review_and_recheck_each_once_the_second_final():
    d = petition(local(2025, 3, 4, 10), received="2025-03-01")
    d.complete("petition_acceptance", petition_acceptance_decision="accepted", petition_informed_on="2025-03-03")
    d.complete("petition_reply", petition_reply_status="replied", petition_reply_on="2025-03-04")
    d.complete("review_request", review_request_decision="requested", review_requested_on="2025-03-04")
    assert d.timers()["复查答复期限（30日）"] == shanghai(2025, 4, 4)
    d.until(local(2025, 4, 4, 0, 1))
    assert d.supervised() == [{"limit": "T-33", "to": "XF"}], "the 复查 body is late"
    d.complete("review_decision", review_result="upheld", review_decided_on="2025-04-04")
    assert d.timers()["复核申请期届满"] == shanghai(2025, 5, 7), "30 days from 04-04 end 05-04 (Labour Day)"
    d.complete("recheck_request", recheck_request_decision="requested", recheck_requested_on="2025-04-07")
    d.complete("recheck_decision", recheck_result="upheld", recheck_decided_on="2025-04-08")
    assert d.completed and "end_petition_final" in d.end_events(), "no third level"


def test_a_petition_already_answered_enters_at_the_review_stage():
    d = routed("petition_review", local(2025, 3, 10, 10))
    d.complete("petition_stage_check", petition_stage="reviewed")
    d.complete("petition_reviewed", review_decided_on="2025-03-05")
    assert d.ready() == ["recheck_request"]
    assert d.timers()["复核申请期届满"] == shanghai(2025, 4, 8), \
        "30 days from the typed 03-05 (not from today) end 04-04, 清明 (04-04..04-06): moved to Mon 04-07"


# -- land-contract arbitration ----------------------------------------------------------------------
def land(at: datetime) -> Driver:
    return routed("land_arbitration", at)


def test_t40_two_year_limitation_from_the_typed_infringement_date():
    d = land(local(2025, 6, 2, 10))
    d.complete("land_stage_check", land_stage="not_applied")
    d.complete("land_infringed", land_right_infringed_on="2023-10-01")
    timers = d.timers()
    assert timers["仲裁时效提醒（届满前3个月）"] == shanghai(2025, 7, 1, 9)
    assert timers["仲裁时效届满"] == shanghai(2025, 10, 10), "2 years to 10-01 (National Day): moved to 10-09"
    d.until(local(2025, 7, 1, 9, 1))
    assert [n["to"] for n in d.notified("limitation_reminder")] == ["applicant"]
    d.until(local(2025, 10, 9, 23, 59))
    assert d.ready() == ["land_application"]
    d.until(local(2025, 10, 10, 0, 1))
    assert "end_land_time_barred" in d.end_events()


def test_t41_acceptance_is_five_working_days_and_only_informs():
    d = land(local(2025, 10, 9, 10))
    d.complete("land_stage_check", land_stage="applied")
    d.complete("land_applied", land_applied_on="2025-09-30")
    due = d.timers()["受理期限（信息性）"]
    assert due == shanghai(2025, 10, 15), "Oct 9, 10, Sat 11 (make-up), 13, 14"
    before, after = edges(due)
    d.until(before)
    assert d.notified("legal_follow_up") == []
    d.until(after)
    assert [n["to"] for n in d.notified("legal_follow_up")] == ["triage_officer"]
    assert d.supervised() == [], "an arbitration commission is followed up, not supervised"


def test_t42_award_60_days_plus_30_then_t43_thirty_days_to_sue():
    d = land(local(2025, 3, 4, 10))
    d.complete("land_stage_check", land_stage="applied")
    d.complete("land_applied", land_applied_on="2025-03-01")
    d.complete("land_acceptance", land_accepted="accepted", land_accepted_on="2025-03-03")
    assert d.timers()["裁决期限（信息性）"] == shanghai(2025, 5, 7)
    d.complete("land_award", land_award_status="extended", land_award_received_on="2025-03-04")
    assert d.timers()["延长后裁决期限（信息性）"] == shanghai(2025, 6, 4)
    d.until(local(2025, 6, 4, 0, 1))
    assert len(d.notified("legal_follow_up")) == 1
    d.complete("land_award_extended", land_award_received_on="2025-06-04")
    timers = d.timers()
    assert timers["起诉期提醒（第20日）"] == shanghai(2025, 6, 24, 9)
    assert timers["起诉期届满"] == shanghai(2025, 7, 5), "30 days from 06-04 end Fri 07-04"
    d.until(local(2025, 7, 4, 23, 59))
    assert [n["to"] for n in d.notified("sue_window")] == ["applicant"] and d.ready() == ["land_sue_window"]
    d.until(local(2025, 7, 5, 0, 1))
    assert "end_land_award_effective" in d.end_events() and d.completed


# -- labour after the award -------------------------------------------------------------------------
def labour(at: datetime) -> Driver:
    return routed("labour_award", at)


def test_t08_one_year_limitation_reminds_a_month_before():
    d = labour(local(2025, 3, 3, 10))
    d.complete("labour_stage_check", labour_stage="not_applied")
    d.complete("labour_limitation_start", labour_right_infringed_on="2024-10-01",
               labour_employment_ongoing="false")
    timers = d.timers()
    assert timers["仲裁时效提醒（届满前1个月）"] == shanghai(2025, 9, 1, 9)
    assert timers["仲裁时效届满"] == shanghai(2025, 10, 10), "1 year to 10-01 (National Day): moved to 10-09"


def test_wages_owed_during_employment_are_not_time_barred():
    d = labour(local(2025, 3, 3, 10))
    d.complete("labour_stage_check", labour_stage="not_applied")
    d.complete("labour_limitation_start", labour_right_infringed_on="2024-10-01",
               labour_employment_ongoing="true")
    assert d.ready() == ["labour_award_receipt"] and d.timers() == {}


def test_t07_final_award_15_and_30_days_from_receipt():
    d = labour(local(2025, 9, 29, 10))
    d.complete("labour_stage_check", labour_stage="awarded")
    d.complete("labour_award_receipt", labour_award_received_on="2025-09-26", labour_award_kind="final")
    timers = d.timers()
    assert timers["劳动者起诉期提醒（第10日）"] == shanghai(2025, 10, 6, 9)
    assert timers["撤销申请期届满"] == shanghai(2025, 10, 28), "day 30 is Sun 10-26: moved to Mon 10-27"
    d.until(local(2025, 10, 6, 9, 1))
    assert [n["to"] for n in d.notified("sue_window")] == ["applicant"]
    d.until(local(2025, 10, 28, 0, 1))
    assert "end_labour_final_effective" in d.end_events()


def test_t07_non_final_award_15_days_ends_on_a_make_up_saturday():
    d = labour(local(2025, 9, 29, 10))
    d.complete("labour_stage_check", labour_stage="awarded")
    d.complete("labour_award_receipt", labour_award_received_on="2025-09-26", labour_award_kind="non_final")
    due = d.timers()["起诉期届满"]
    assert due == shanghai(2025, 10, 12), "day 15 is Sat 10-11, a make-up working day: not moved"
    before, after = edges(due)
    d.until(before)
    assert d.ready() == ["labour_award_window"]
    d.until(after)
    assert "end_labour_award_effective" in d.end_events()


# -- administrative review --------------------------------------------------------------------------
def test_t25_review_decision_60_days_supervises_the_review_body_and_the_extension_is_recorded():
    d = routed("administrative_review", local(2025, 8, 4, 10))
    d.complete("admin_review_accepted", admin_review_accepted_on="2025-08-02")
    due = d.timers()["复议决定期限（60日）"]
    assert due == shanghai(2025, 10, 10), "day 60 is 10-01 (National Day): moved to 10-09"
    before, after = edges(due)
    d.until(before)
    assert d.supervised() == []
    d.until(after)
    assert d.supervised() == [{"limit": "T-25", "to": "SF"}]
    d.complete("admin_review_decision", admin_review_status="extended", admin_review_decided_on="2025-09-20")
    assert d.timers()["延长后复议决定期限（90日）"] == shanghai(2025, 11, 1), "90 days from 08-02: Fri 10-31"
    d.complete("admin_review_decision_extended", admin_review_decided_on="2025-10-20")
    timers = d.timers()
    assert timers["起诉期届满"] == shanghai(2025, 11, 5), "15 days from 10-20 end Tue 11-04 (T-26)"
    assert timers["起诉期提醒（第10日）"] == shanghai(2025, 10, 30, 9)
    d.complete("admin_sue_window", admin_after_review="sued")
    assert d.completed


def test_t08_limitation_lapses_at_its_last_minute():
    d = labour(local(2025, 3, 3, 10))
    d.complete("labour_stage_check", labour_stage="not_applied")
    d.complete("labour_limitation_start", labour_right_infringed_on="2024-10-01",
               labour_employment_ongoing="false")
    d.until(local(2025, 9, 1, 9, 1))
    assert [n["to"] for n in d.notified("limitation_reminder")] == ["applicant"]
    d.until(local(2025, 10, 9, 23, 59))
    assert d.ready() == ["labour_limitation"]
    d.until(local(2025, 10, 10, 0, 1))
    assert "end_labour_time_barred" in d.end_events() and d.completed


def test_t25_extended_window_supervises_again_at_its_own_edge():
    d = routed("administrative_review", local(2025, 8, 4, 10))
    d.complete("admin_review_accepted", admin_review_accepted_on="2025-08-02")
    d.complete("admin_review_decision", admin_review_status="extended", admin_review_decided_on="2025-09-20")
    due = d.timers()["延长后复议决定期限（90日）"]
    before, after = edges(due)
    d.until(before)
    assert d.supervised() == [], "the 60-day window was replaced by the recorded extension"
    d.until(after)
    assert d.supervised() == [{"limit": "T-25", "to": "SF"}]
    assert d.ready() == ["admin_review_decision_extended"]
