"""Service-level walks of expropriation compensation: C05 (evaluation objection) and C06 (red
flag: planned road blockade -> red colour, leadership 包案, joint dispatch with the police)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent, OutboxMessage
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.events import record_rating


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def co_orders(walk: Walk, depts: list[str]) -> None:
    for dept in depts:
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
        walk.do("co_handle", dept, co_result=f"{dept} 已办理", co_result_status="done")
    walk.do("lead_consolidate", joint_result="各部门已按分工办理", joint_outcome="partly_resolved")


def finish(services, walk: Walk, outcome: str) -> None:
    walk.do("submit_result", outcome=outcome, result_summary="办结")
    walk.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), walk.user("intake_clerk", "ZZ"), case_no=walk.case_no,
                  rating="basically_satisfied")
    assert walk.summary()["status"] == "closed"


@pytest.fixture
def c05(services, clock) -> Walk:
    clock.set(local(2025, 5, 19, 10, 0))
    walk = Walk.ready(services, clock)
    walk.intake(channel="petition_transfer", category="expropriation", urgency="urgent",
                summary="评估面积少算、单价偏低，担心超过复核期限",
                description="本人东关片区平房已列入征收范围，5月12日收到分户评估报告……",
                parties=[PartyInput(name="孙永福", id_number=IDS["孙永福"], phone="13500000000"),
                         PartyInput(name="区房屋征收办公室", role="respondent")])
    walk.do("register", category="expropriation", urgency="urgent", people_count="1",
            summary="评估异议")
    return walk


def test_c05_evaluation_objection_to_a_compensation_agreement(services, c05):
    walk = c05
    summary = walk.summary()
    assert (summary["tier"], summary["lead_department"]["code"], summary["risk_level"]) == \
        ("district", "ZJ", "yellow")
    assert walk.task("sign_off", "ZJ")["due_at"] == local(2025, 5, 19, 12, 0)   # urgent: PT2H
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="visit", contact_summary="上门了解评估异议")
    walk.do("detect_stage", expropriation_stage="evaluation", red_flag_forced_relocation="false",
            red_flag_blockade="false", key_date="2025-05-12")
    co_orders(walk, ["JD", "SF", "PG", "XF"])
    recheck = walk.task("evaluation_objection")
    # reminders T-20 (10 days) and T-21/22 (20 days) from the typed key date 05-12: day 20 is
    # Sun 06-01, inside the Dragon Boat holiday (05-31..06-02) -> Tue 06-03, 24:00
    assert recheck["due_at"] == local(2025, 6, 4, 0, 0)
    walk.do("evaluation_objection", recheck_requested="true", appraisal_requested="false",
            evaluation_follow_up="复核后面积更正为86平方米")
    walk.do("negotiate_compensation", compensation_items_checked="房屋价值、搬迁费、临时安置费",
            compensation_agreed="agreed")
    walk.do("compensation_agreement", compensation_agreement_signed="true",
            compensation_agreement_summary="货币补偿，30日内支付")
    finish(services, walk, "R1")
    assert walk.summary()["risk_level"] == "yellow"


@pytest.fixture
def c06(services, clock) -> Walk:
    clock.set(local(2025, 6, 26, 19, 10))
    walk = Walk.ready(services, clock)
    walk.intake(channel="police_110", category="expropriation", urgency="urgent",
                people_count=23, summary="23户不满补偿决定，计划明早堵路",
                description="东关片区23户被征收人对6月16日公告的补偿决定不满……",
                parties=[PartyInput(name="罗建平", id_number=IDS["罗建平"], phone="13300000000"),
                         PartyInput(name="区人民政府", role="respondent")])
    walk.do("register", category="expropriation", urgency="urgent", people_count="23",
            summary="计划堵路表达诉求")
    return walk


def test_c06_red_path_with_leadership_and_police(services, c06):
    walk = c06
    summary = walk.summary()
    assert (summary["lead_department"]["code"], summary["risk_level"]) == ("ZJ", "orange")
    walk.do("confirm_triage", tier="district", department="ZJ", risk_level="red",
            handling="expropriation", triage_note="计划明早7点堵路，定为红色")
    summary = walk.summary()
    assert summary["risk_level"] == "red" and summary["tier"] == "district"
    assert set(walk.ids()) == {"leader_take_charge", "sign_off"}       # L3 包案 beside dispatch
    assert walk.task("sign_off", "ZJ")["due_at"] == local(2025, 6, 26, 21, 10)
    leader = walk.user("leader", "ZZ")
    walk.do("leader_take_charge", actor=leader, accept_charge="true",
            leader_instructions="连夜约谈，做好稳控", joint_meeting_required="true",
            response_deadline="PT24H")
    walk.do("joint_meeting", actor=leader, meeting_minutes="公安、街道连夜入户",
            action_items="街道：入户；公安：现场秩序")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="与代表面谈")
    walk.do("detect_stage", expropriation_stage="compensation_decision",
            red_flag_forced_relocation="false", red_flag_blockade="true", key_date="2025-06-16")
    assert "leader_take_charge" in walk.ids()                         # the red flag: L3 again
    assert {t["dept"] for t in walk.open() if t["bpmn_id"] == "co_sign_off"} == \
        {"JD", "SF", "PG", "XF", "GA"}
    walk.do("leader_take_charge", actor=leader, accept_charge="true",
            leader_instructions="包案到底", joint_meeting_required="false",
            response_deadline="working_days(3)")
    co_orders(walk, ["JD", "SF", "PG", "XF", "GA"])
    notice = walk.task("rights_notice")
    assert notice["due_at"] is not None           # T-24 / T-26 reminders run on the task
    walk.do("rights_notice", rights_notice_delivered="true", household_action="review",
            rights_follow_up="已申请行政复议")
    finish(services, walk, "R4")
    with services.session_factory() as session:
        changes = [e.payload for e in session.scalars(select(AuditEvent).where(
            AuditEvent.action == "risk_changed").order_by(AuditEvent.id))]
        police = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "risk_raised")).all()
    assert changes and '"after":"red"' in changes[0]
    assert walk.replays().startswith("verified")
    assert {m.recipient_type for m in police} >= {"department", "role"}


@pytest.mark.parametrize("stage,form,expected", [
    ("enforcement", {"compensated_first": "false", "court_enforcement_applied": "false",
                     "illegal_enforcement": "true"}, "red"),
    ("enforcement", {"compensated_first": "true", "court_enforcement_applied": "true",
                     "illegal_enforcement": "false"}, "yellow"),
    ("agreement_breach", {"breach_guidance": "告知可依法起诉"}, "yellow"),
    ("negotiation", None, "yellow"),
    ("decision", {"policy_explanation": "释明征收决定与补偿方案"}, "yellow"),
])
def test_other_expropriation_stages(services, c05, stage, form, expected):
    walk = c05
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("detect_stage", expropriation_stage=stage, red_flag_forced_relocation="false",
            red_flag_blockade="false")
    co_orders(walk, ["JD", "SF", "PG", "XF"])
    task = {"enforcement": "check_enforcement", "agreement_breach": "agreement_breach_guidance",
            "negotiation": "negotiate_compensation", "decision": "explain_policy"}[stage]
    if stage == "negotiation":
        walk.do(task, compensation_items_checked="房屋价值", compensation_agreed="not_agreed")
    else:
        walk.do(task, **form)
    if expected == "red":
        assert walk.summary()["risk_level"] == "red"
        walk.do("leader_take_charge", actor=walk.user("leader", "ZZ"), accept_charge="true",
                leader_instructions="立即制止违法强拆", joint_meeting_required="false",
                response_deadline="PT24H")
    finish(services, walk, "R3")
    assert walk.summary()["risk_level"] == expected
