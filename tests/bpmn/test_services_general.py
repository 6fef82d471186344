"""Service-level walks of the general dispute lifecycle: return and re-dispatch, review, rating,
re-handling, closure, de-duplication, second complaint, early ends, and the access policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.events import record_rating
from workflows.casework.tasks import complete_task
from workflows.casework.views import task_page
from workflows.core.errors import InvalidInput, NotPermitted, TaskNoLongerAvailable
from workflows.intake.register import IntakeRequest, preview_intake, submit_intake
from workflows.models import Submission


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def noise_request(name: str = "刘淑芬", **overrides) -> IntakeRequest:
    fields = {"channel": "hotline_12345", "category": "noise", "summary": "夜间施工噪声",
                  "description": "小区旁工地夜间施工噪声扰民",
                  "parties": [PartyInput(name=name, id_number=IDS[name], phone="13812345678",
                                      contact_preference="sms")]}
    fields.update(overrides)
    return IntakeRequest(**fields)


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def registered(walk: Walk, **overrides) -> Walk:
    walk.intake(**vars(noise_request(**overrides)))
    walk.do("register", category=walk.summary()["category"], urgency="general",
            people_count="1", summary="夜间施工噪声")
    return walk


def handle_to_review(walk: Walk, dept: str = "CG") -> None:
    """From an accepted sign-off through contact, the co-department and handling to review."""
    if "contact_citizen" in walk.ids():
        walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    if any(t["bpmn_id"] == "co_sign_off" for t in walk.open()):
        walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
        walk.do("co_handle", "JD", co_result="街道已协调工地", co_result_status="done")
        walk.do("lead_consolidate", joint_result="已责令停止夜间施工", joint_outcome="resolved")
    else:
        walk.do("handle_case", handling_record="现场检查并责令整改")
    walk.do("submit_result", outcome="R2", result_summary="责令停止夜间施工")


def test_return_redispatch_review_return_and_rating_close(services, walk):
    registered(walk)
    assert walk.summary()["lead_department"]["code"] == "CG"
    walk.do("sign_off", sign_off_decision="return", return_reason="属生态环境部门职责",
            return_basis="职责清单第3条")
    assert walk.ids() == ["redispatch"]
    walk.do("redispatch", department="HJ", redispatch_note="退单成立，改派生态环境分局")
    assert walk.task("sign_off")["dept"] == "HJ"
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.orders() == [("CG", "lead", 1, "returned"), ("HJ", "lead", 1, "accepted")]
    handle_to_review(walk)
    walk.do("review_result", review_decision="return", review_note="未附检测报告")
    assert walk.ids() == ["co_sign_off"]           # handled again: a new co-department order
    assert walk.orders() == [("CG", "lead", 1, "returned"), ("HJ", "lead", 1, "in_progress"),
                             ("JD", "co", 1, "done"), ("JD", "co", 2, "dispatched")]
    assert walk.summary()["status"] == "in_handling"
    handle_to_review(walk)
    walk.do("review_result", review_decision="approve")
    assert walk.summary()["status"] == "awaiting_feedback"
    status = record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"),
                           case_no=walk.case_no, rating="basically_satisfied")
    assert status == "closed"
    with pytest.raises(TaskNoLongerAvailable):      # rated once
        record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                      rating="dissatisfied")
    summary = walk.summary()
    assert (summary["outcome"], summary["satisfaction"]) == ("R2", "basically_satisfied")


def close_with_rating(services, walk: Walk, rating: str = "satisfied") -> None:
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    walk.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating=rating)


def test_dissatisfied_rating_sends_the_case_back_for_rehandling(services, walk):
    registered(walk)
    close_with_rating(services, walk, "dissatisfied")
    assert walk.summary()["status"] == "awaiting_feedback"
    assert walk.task("verify_dissatisfaction")["role"] == "supervisor"
    walk.do("verify_dissatisfaction", dissatisfaction_cause="handling_unit",
            verification_note="噪声仍未停止")
    assert walk.ids() == ["co_sign_off"] and walk.summary()["status"] == "in_handling"
    assert walk.orders()[0] == ("CG", "lead", 1, "in_progress")
    handle_to_review(walk)
    walk.do("review_result", review_decision="approve")
    walk.advance(days=5)                      # T-52: no rating within 3 working days
    assert walk.ids() == ["return_visit"]
    walk.do("return_visit", satisfaction="satisfied", visit_note="电话回访，已停止施工")
    summary = walk.summary()
    assert (summary["status"], summary["satisfaction"]) == ("closed", "satisfied")


def test_dissatisfaction_without_legal_basis_closes_as_explained(services, walk):
    registered(walk)
    close_with_rating(services, walk, "dissatisfied")
    walk.do("verify_dissatisfaction", dissatisfaction_cause="no_legal_basis",
            verification_note="诉求无政策依据，已解释并告知复查途径")
    assert walk.summary()["status"] == "closed"


def test_duplicate_submission_links_to_the_open_case(services, walk):
    registered(walk)
    clerk = walk.user("intake_clerk", "ZZ")
    again = noise_request(channel="portal", description="还是很吵")
    preview = preview_intake(services.new_uow(), clerk, again)
    assert (preview.kind, preview.case_no, preview.saved) == ("duplicate", walk.case_no, False)
    orders_before = walk.orders()
    outcome = submit_intake(services.new_uow(), clerk, again)
    assert (outcome.kind, outcome.case_no, outcome.status) == ("duplicate", walk.case_no,
                                                              "dispatched")
    assert walk.orders() == orders_before
    with services.session_factory() as session:
        links = [s.linked_as for s in session.scalars(select(Submission))]
        from workflows.models import Case

        assert session.query(Case).count() == 1
    assert links == ["new", "duplicate"]
    other_category = noise_request(category="neighbour")
    assert preview_intake(services.new_uow(), clerk, other_category).kind == "new"


def test_second_complaint_reopens_the_closed_case(services, walk, clock):
    registered(walk)
    close_with_rating(services, walk)
    assert walk.summary()["status"] == "closed"
    clock.advance(days=10)
    clerk = walk.user("intake_clerk", "ZZ")
    again = noise_request(channel="hotline_12345", description="施工又开始了")
    preview = preview_intake(services.new_uow(), clerk, again)
    assert (preview.kind, preview.case_no, preview.status) == ("second_complaint", walk.case_no,
                                                               "closed")
    outcome = submit_intake(services.new_uow(), clerk, again)
    assert (outcome.kind, outcome.case_no) == ("second_complaint", walk.case_no)
    summary = walk.summary()
    assert summary["second_complaint"] and summary["reopened_count"] == 1
    assert (summary["tier"], summary["risk_level"]) == ("district", "yellow")  # reopen.dmn
    assert summary["status"] == "reopened" and summary["closed_at"] is None
    assert walk.ids() == ["issue_supervision"]                    # (e) L1 督办 first
    walk.do("issue_supervision", supervision_note="二次投诉，请于1个工作日内说明",
            listed_in_weekly_review="true")
    walk.do("reply_supervision", "CG", supervision_reply="施工方夜间违规复工",
            corrective_commitment="三日内查处")
    assert walk.ids() == ["sign_off"] and walk.summary()["status"] == "dispatched"
    assert ("CG", "lead", 2, "dispatched") in walk.orders()       # re-dispatched
    assert walk.replays().startswith("verified")


def test_after_the_watch_window_a_new_case_is_opened(services, walk, clock):
    registered(walk)
    close_with_rating(services, walk)
    walk.advance(days=31)                                  # T-51 watch window: archived
    assert walk.ids() == [] and walk.summary()["status"] == "closed"
    outcome = submit_intake(services.new_uow(), walk.user("intake_clerk", "ZZ"),
                            noise_request(description="又开始施工"))
    assert outcome.kind == "new" and outcome.case_no != walk.case_no


def test_statutory_channel_is_routed_and_closed(services, walk):
    walk.intake(**vars(noise_request(statutory_channel=True)))
    walk.do("register", category="noise", urgency="general", people_count="1",
            statutory_channel="true", summary="已起诉")
    walk.do("statutory_guidance", statutory_route="litigation",
            statutory_guidance_text="已在法院诉讼，请等待判决")
    summary = walk.summary()
    assert (summary["status"], summary["outcome"]) == ("closed", "R4")


@pytest.mark.parametrize("follow_up", [True, False])
def test_emergency_transfer_with_or_without_follow_up(services, walk, follow_up):
    walk.intake(**vars(noise_request(category="public_order", emergency=True)))
    walk.do("register", category="public_order", urgency="urgent", people_count="1",
            emergency="true", summary="持刀威胁")
    walk.do("emergency_transfer", transfer_target="110", transfer_ref="110-2025-0001",
            follow_up_required="true" if follow_up else "false")
    summary = walk.summary()
    if follow_up:   # the emergency routing row: community follow-up, confirmed by triage
        assert walk.ids() == ["confirm_triage"] and summary["lead_department"]["code"] == "SQ"
        walk.do("confirm_triage", tier="community", department="SQ", risk_level="yellow",
                handling="generic", triage_note="社区跟进")
        assert walk.task("sign_off")["dept"] == "SQ"
    else:
        assert (summary["status"], summary["outcome"]) == ("closed", "transferred")


def test_another_departments_task_cannot_be_read_or_completed(services, walk):
    registered(walk)
    task = walk.task("sign_off", "CG")
    police = walk.user("dept_handler", "GA")
    with pytest.raises(NotPermitted):
        complete_task(services.new_uow(), police, case_no=walk.case_no, task_id=task["task_id"],
                      raw={"sign_off_decision": "accept"})
    with pytest.raises(NotPermitted):
        task_page(services.new_uow(), police, walk.case_no, task["task_id"])
    # a co-department sees the case (masked) but not the lead's task
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    street = walk.user("dept_handler", "JD")
    lead_task = walk.task("co_sign_off", "JD")
    page = task_page(services.new_uow(), street, walk.case_no, lead_task["task_id"])
    assert page.task.bpmn_id == "co_sign_off"
    with services.session_factory() as session:
        denied = list(session.scalars(select(AuditEvent).where(
            AuditEvent.action == "access_denied")))
        assert len(denied) == 2 and all(e.chain_key.startswith("case:") for e in denied)
        assert all(e.actor_id == police.id for e in denied)
    with pytest.raises(InvalidInput):
        walk.do("co_sign_off", "JD", co_sign_off_decision="maybe")


def counter_complaint(walk: Walk) -> str:
    """The respondent of the first case complains about the same matter: a similar case."""
    first = walk.case_no
    request = noise_request("陈立伟", parties=[
        PartyInput(name="陈立伟", id_number=IDS["陈立伟"]),
        PartyInput(name="刘淑芬", role="respondent", id_number=IDS["刘淑芬"])])
    preview = preview_intake(walk.services.new_uow(), walk.user("intake_clerk", "ZZ"), request)
    assert (preview.kind, preview.candidates) == ("new", [first])
    walk.intake(**vars(request))
    walk.do("register", category="noise", urgency="general", people_count="1", summary="反映")
    assert walk.ids() == ["confirm_duplicate"]
    return first


@pytest.mark.parametrize("decision", ["duplicate", "new"])
def test_similar_case_confirmed_by_the_clerk(services, walk, decision):
    registered(walk)
    first = counter_complaint(walk)
    with pytest.raises(InvalidInput):               # only a listed candidate may be named
        walk.do("confirm_duplicate", duplicate_decision="duplicate", master_case_no="JF-2025-9")
    walk.do("confirm_duplicate", duplicate_decision=decision,
            master_case_no=first if decision == "duplicate" else "")
    summary = walk.summary()
    if decision == "duplicate":
        assert (summary["status"], summary["outcome"]) == ("closed", "duplicate")
        with services.session_factory() as session:
            linked = [(s.linked_as, s.channel_ref) for s in session.scalars(select(Submission))]
        assert ("duplicate", walk.case_no) in linked
    else:
        assert walk.ids() == ["sign_off"] and summary["status"] == "dispatched"


def test_similar_case_confirmed_as_second_complaint_reopens_the_master(services, walk):
    registered(walk)
    close_with_rating(services, walk)
    first = counter_complaint(walk)
    walk.do("confirm_duplicate", duplicate_decision="second_complaint", master_case_no=first)
    assert walk.summary()["outcome"] == "duplicate"
    walk.case_no = first
    summary = walk.summary()
    assert summary["second_complaint"] and summary["status"] == "reopened"
    assert walk.ids() == ["issue_supervision"]


def test_co_department_return_rejected_goes_back_to_the_same_department(services, walk):
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("co_sign_off", "JD", co_sign_off_decision="return", co_return_reason="非属地",
            co_return_basis="职责清单")
    assert walk.orders()[-1] == ("JD", "co", 1, "returned")
    walk.do("review_co_return", co_return_review="reject_return",
            co_return_review_note="属地街道应协办")
    assert walk.task("co_sign_off", "JD") and walk.orders()[-1] == ("JD", "co", 1, "dispatched")
    walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
    assert walk.orders()[-1] == ("JD", "co", 1, "accepted")


def test_co_department_sign_off_breach_escalates_to_that_department(services, walk):
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.advance(hours=25)                                    # L0 reminder to JD
    walk.advance(hours=25)                                    # L1: 督办单
    walk.do("issue_supervision", supervision_note="协办部门未签收", listed_in_weekly_review="true")
    reply = walk.task("reply_supervision")
    assert reply["dept"] == "JD"                              # the co-department replies
    walk.do("reply_supervision", "JD", supervision_reply="已安排", corrective_commitment="今日签收")
    assert walk.task("co_sign_off", "JD")
