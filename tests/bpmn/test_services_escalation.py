"""Service-level walks of the escalation ladder (e): sign-off breaches L0 -> L1 -> L2 -> L3, a
late reply to the 督办单, the first-contact breach, the handling watchdog and reported risk."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import OutboxMessage
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.events import report_risk
from workflows.core.errors import InvalidInput


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))      # Monday
    walk = Walk.ready(services, clock)
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="工地夜间施工", parties=[PartyInput(name="刘淑芬",
                                                            id_number=IDS["刘淑芬"])])
    walk.do("register", category="noise", urgency="general", people_count="1", summary="噪声")
    return walk


def templates(services) -> list[str]:
    with services.session_factory() as session:
        return [m.template for m in session.scalars(select(OutboxMessage)
                                                    .order_by(OutboxMessage.id))]


def test_sign_off_breaches_climb_the_ladder(services, walk):
    assert walk.task("sign_off", "CG")["due_at"] == local(2025, 3, 4, 9, 0)
    walk.until(local(2025, 3, 4, 3, 5))                      # 75 % of 24 h: yellow, 催办
    assert "sign_off_reminder" in templates(services)
    walk.until(local(2025, 3, 4, 9, 1))                      # breach 1 -> L0 reminder
    assert "reminder" in templates(services)
    assert walk.task("sign_off", "CG")["due_at"] == local(2025, 3, 5, 9, 1)   # PT24H grace
    walk.until(local(2025, 3, 5, 9, 2))                      # breach 2 -> L1 督办单
    assert walk.ids() == ["issue_supervision"] and walk.summary()["tier"] == "street"
    walk.do("issue_supervision", supervision_note="请立即签收并说明", listed_in_weekly_review="true")
    reply = walk.task("reply_supervision", "CG")
    assert reply["due_at"] == local(2025, 3, 7, 0, 0)        # T-53: 1 working day, 24:00
    walk.until(local(2025, 3, 7, 0, 1))                      # no reply -> L2 upgrade
    assert "upgrade_notice" in templates(services)
    assert walk.summary()["tier"] == "district" and walk.ids() == ["sign_off"]
    due = walk.task("sign_off", "CG")["due_at"]
    walk.until(due.replace(minute=due.minute + 1))           # breach again -> L3 包案
    assert walk.ids() == ["leader_take_charge"]
    walk.do("leader_take_charge", accept_charge="true", leader_instructions="当日签收",
            joint_meeting_required="false", response_deadline="working_days(1)")
    assert walk.ids() == ["sign_off"]
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.orders() == [("CG", "lead", 1, "accepted")]
    assert walk.replays().startswith("verified")


def test_reply_to_supervision_in_time_ends_the_rung(services, walk):
    walk.advance(hours=25)
    walk.advance(hours=25)
    walk.do("issue_supervision", supervision_note="请说明", listed_in_weekly_review="false")
    walk.do("reply_supervision", "CG", supervision_reply="人员外出", corrective_commitment="今日签收")
    assert walk.ids() == ["sign_off"] and walk.summary()["tier"] == "street"


def test_first_contact_breach_escalates_beside_the_task(services, walk):
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.task("contact_citizen")["due_at"] == local(2025, 3, 6, 0, 0)   # T-02
    fired = walk.until(local(2025, 3, 6, 0, 1))
    assert "首次联系超时" in fired and walk.ids() == ["contact_citizen"]   # non-interrupting
    assert "reminder" in templates(services)                 # L0 on the lead department


def test_handling_watchdog_and_reported_risk(services, walk):
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    with pytest.raises(InvalidInput):
        report_risk(services.new_uow(), walk.user("dept_handler", "CG"), case_no=walk.case_no,
                    level="purple", reason="")
    report_risk(services.new_uow(), walk.user("dept_handler", "CG"), case_no=walk.case_no,
                level="red", reason="群众扬言到区政府聚集")
    assert walk.summary()["risk_level"] == "red"
    assert "leader_take_charge" in walk.ids()                # red -> L3 beside the handling
    walk.do("leader_take_charge", accept_charge="true", leader_instructions="稳控",
            joint_meeting_required="false", response_deadline="PT24H")
    fired = walk.until(local(2025, 3, 11, 0, 1))             # handling limit: 7 days (T: 03-10)
    assert "办理时限" in fired                                 # the watchdog escalates (L0)
    assert "co_sign_off" in walk.ids()
