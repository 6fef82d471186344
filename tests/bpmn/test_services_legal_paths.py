"""Service-level walks of the legal paths: who does each step, the 督办单 to a late authority,
the reminder by the citizen's channel, the case page's windows with their basis, the intake's
refusal after a final 复核 (信访工作条例 Art 36), the cockpit's count per path, and replay."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import OutboxMessage
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework.views import case_page
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import CaseLegalPath, Department
from workflows.models.scheduling import SupervisionNotice
from workflows.reports import kpi_cases as kc
from workflows.reports.legal_paths import cases_per_path


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def request(category: str, name: str = "刘淑芬", preference: str = "phone", phone: str = "13812345678",
            **extra) -> IntakeRequest:
    fields = {"channel": "petition_transfer" if category == "petition" else "counter", "category": category,
              "summary": "已进入法定途径", "description": "当事人已通过法定途径主张权利", "statutory_channel": True,
              "parties": [PartyInput(name=name, id_number=IDS[name], phone=phone,
                                     contact_preference=preference)]}
    fields.update(extra)
    return IntakeRequest(**fields)


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 9, 22, 9, 0))
    return Walk.ready(services, clock)


def routed(walk: Walk, category: str, route: str, **extra) -> None:
    walk.intake(**vars(request(category, **extra)))
    walk.do("register", category=category, urgency="general", people_count="1", statutory_channel="true",
            summary="已进入法定途径")
    walk.do("statutory_guidance", statutory_route=route, statutory_guidance_text="告知受理机关、程序和期限")


def panel(walk: Walk) -> list[dict]:
    uow = walk.services.new_uow()
    with uow:
        page = case_page(uow, walk.user("triage_officer", "ZZ"), walk.case_no)
        return [r for r in page.deadlines["rows"] if r.get("legal")]


def test_petition_path_supervises_the_late_body_and_shows_its_windows(services, walk):
    routed(walk, "other", "petition", channel="petition_transfer")   # screening's transfer
    assert walk.ids() == ["petition_stage_check"] and walk.task("petition_stage_check")["role"] == "triage_officer"
    walk.do("petition_stage_check", petition_stage="new")
    walk.do("petition_received", petition_received_on="2025-09-20")
    [row] = panel(walk)
    assert row["legal"]["tid"] == "T-31" and row["legal"]["start"] == date(2025, 9, 20)
    assert row["legal"]["last_day"] == date(2025, 10, 9), "day 15 in National Day: moved to 10-09"
    walk.until(local(2025, 10, 10, 0, 1))
    with services.session_factory() as session:
        notice, unit = session.execute(select(SupervisionNotice, Department.code).join(
            Department, Department.id == SupervisionNotice.department_id)).one()
        assert (unit, notice.level, notice.source) == ("XF", 1, "legal:T-31")
        assert notice.reply_due_at is not None
    assert walk.ids() == ["petition_acceptance"]
    walk.do("petition_acceptance", petition_acceptance_decision="accepted", petition_informed_on="2025-10-10")
    walk.do("petition_reply", petition_reply_status="replied", petition_reply_on="2025-10-10")
    walk.until(local(2025, 10, 30, 9, 1))
    with services.session_factory() as session:
        reminder = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "petition_review_window")).one()
        assert reminder.channel == "phone", "a citizen who prefers the phone gets a call task"
    assert walk.replays().startswith("verified")


def test_after_the_final_recheck_the_same_petition_is_refused_at_intake(services, walk):
    walk.intake(**vars(request("petition")))   # a petition starts on the petition path itself
    earlier = walk.case_no
    walk.do("petition_stage_check", petition_stage="reviewed")
    walk.do("petition_reviewed", review_decided_on="2025-09-20")
    walk.do("recheck_request", recheck_request_decision="requested", recheck_requested_on="2025-09-21")
    walk.do("recheck_decision", recheck_result="upheld", recheck_decided_on="2025-09-22")
    assert walk.summary()["status"] == "closed"
    with pytest.raises(InvalidInput) as refused:
        submit_intake(services.new_uow(), walk.user("intake_clerk", "ZZ"), request("petition"))
    error = refused.value.field_errors["category"]
    assert (error.code, error.params) == (ErrorCode.PETITION_FINAL, {"case_no": earlier})
    other = submit_intake(services.new_uow(), walk.user("intake_clerk", "ZZ"), request("petition", name="陈立伟",
                                                                                  phone="13900001111"))
    assert other.case_no != earlier, "another petitioner is registered"
    assert walk.replays().startswith("verified")


def test_land_arbitration_walk_is_counted_and_replays(services, walk):
    routed(walk, "land_contract", "land_arbitration", preference="sms")
    walk.do("land_stage_check", land_stage="applied")
    walk.do("land_applied", land_applied_on="2025-09-19")
    walk.do("land_acceptance", land_accepted="accepted", land_accepted_on="2025-09-22")
    [row] = panel(walk)
    assert (row["legal"]["tid"], row["legal"]["start"], row["legal"]["last_day"]) == \
        ("T-42", date(2025, 9, 22), date(2025, 11, 21))
    walk.do("land_award", land_award_status="extended", land_award_received_on="2025-09-22")
    assert [r["legal"]["last_day"] for r in panel(walk)] == [date(2025, 12, 22)], "90 days: Sun 12-21 -> 12-22"
    walk.do("land_award_extended", land_award_received_on="2025-09-22")
    walk.do("land_sue_window", land_after_award="accepted")
    with services.session_factory() as session:
        period = kc.Period.of(date(2025, 9, 1), date(2025, 9, 30), "Asia/Shanghai")
        counts = cases_per_path(session, period, kc.Scope())
        assert counts["land_arbitration"] == {"entered": 1, "following": 0}
        assert counts["petition"] == {"entered": 0, "following": 0}
        assert session.scalars(select(CaseLegalPath.path)).all() == ["land_arbitration"]
    assert walk.summary()["outcome"] == "R4"
    assert walk.replays().startswith("verified")


def test_labour_and_review_paths_replay(services, walk):
    routed(walk, "labour", "labour_award")
    walk.do("labour_stage_check", labour_stage="awarded")
    walk.do("labour_award_receipt", labour_award_received_on="2025-09-20", labour_award_kind="non_final")
    walk.until(local(2025, 10, 9, 23, 59))
    assert walk.ids() == ["labour_award_window"], "15 days from 09-20 end 10-05 (National Day): moved to 10-09"
    walk.until(local(2025, 10, 10, 0, 1))
    assert walk.summary()["status"] == "closed"
    assert walk.replays().startswith("verified")


def test_review_path_supervises_the_review_body(services, walk):
    routed(walk, "other", "administrative_review")
    walk.do("admin_review_accepted", admin_review_accepted_on="2025-07-20")
    walk.until(local(2025, 9, 19, 0, 1))
    with services.session_factory() as session:
        unit = session.scalar(select(Department.code).join(
            SupervisionNotice, SupervisionNotice.department_id == Department.id))
        assert unit == "SF"
    walk.do("admin_review_decision", admin_review_status="decided", admin_review_decided_on="2025-09-19")
    walk.do("admin_sue_window", admin_after_review="accepted")
    assert walk.replays().startswith("verified")
