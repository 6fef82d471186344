"""A failed mediation (R5) routed into the matching legal path, the same way screening's 依法导入
(R4) routes: the mediator's decision on the failed-mediation step (people's mediation: 终止调解;
labour: 仲裁申请引导) starts the path, the case is counted on it and audited, the handling clock
stops while the path's own windows run, the result report follows the path's end, and the case
replays (``jiefen replay --verify``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework import call_tasks
from workflows.casework.events import record_rating
from workflows.casework.views import case_page
from workflows.models import CaseLegalPath, SlaClock
from workflows.notify.delivery import deliver_pending
from workflows.reports import kpi_cases as kc
from workflows.reports.legal_paths import cases_per_path


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def land(services, clock) -> Walk:
    """A land-contract dispute (lead JDTJ, co NY, people's mediation) in mediation from Mon
    2025-03-03; the one session ends without agreement."""
    clock.set(local(2025, 3, 3, 10, 0))
    walk = Walk.ready(services, clock)
    walk.intake(channel="counter", category="land_contract", summary="土地流转费纠纷",
                description="承包地流转费三年未付",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678",
                                    contact_preference="phone"),
                         PartyInput(name="陈立伟", role="respondent", id_number=IDS["陈立伟"],
                                    phone="13912345678")])
    walk.do("register", category="land_contract", urgency="general", people_count="2",
            summary="土地流转费纠纷")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    walk.do("co_sign_off", "NY", co_sign_off_decision="accept")
    walk.do("co_handle", "NY", co_result="核实承包合同", co_result_status="done")
    walk.do("lead_consolidate", joint_result="合同已核实", joint_outcome="partly_resolved")
    walk.do("confirm_consent", consent="both_agree", consent_note="同意")
    walk.do("assign_mediator", mediator_id=walk.user("mediator", "JDTJ").username,
            mediator_chosen_by="committee", conflict_check="no_conflict")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="public", mediation_registration_note="登记")
    walk.session("流转费金额差距大", "no_agreement")
    assert walk.ids() == ["terminate_mediation"]
    return walk


def entered(services) -> list[dict]:
    with services.session_factory() as session:
        return [json.loads(e.payload) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.action == "legal_path_entered"))]


def resolution_clock(services) -> SlaClock | None:
    with services.session_factory() as session:
        return session.scalars(select(SlaClock).where(SlaClock.kind == "resolution")).first()


def test_failed_land_mediation_is_followed_on_the_land_arbitration_path(services, land):
    assert resolution_clock(services).stopped_at is None, "the handling clock runs in mediation"
    land.do("terminate_mediation", termination_reason="流转费金额差距大，当事人拟申请仲裁",
            legal_routes_informed="true", legal_route="land_arbitration")
    stage = land.task("land_stage_check")
    assert land.ids() == ["land_stage_check"] and stage["role"] == "triage_officer"
    assert land.summary()["status"] == "in_handling"
    [audit] = entered(services)
    assert (audit["path"], audit["outcome"], audit["task"]) == \
        ("land_arbitration", "R5", "terminate_mediation")
    assert resolution_clock(services).stopped_at is not None, "the path's windows run instead"
    with services.session_factory() as session:
        assert session.scalars(select(CaseLegalPath.path)).all() == ["land_arbitration"]
        period = kc.Period.of(date(2025, 3, 1), date(2025, 3, 31), "Asia/Shanghai")
        assert cases_per_path(session, period, kc.Scope())["land_arbitration"]["entered"] == 1

    land.clock.set(local(2025, 3, 25, 10, 0))
    land.do("land_stage_check", land_stage="applied")
    land.do("land_applied", land_applied_on="2025-03-04")
    land.do("land_acceptance", land_accepted="accepted", land_accepted_on="2025-03-06")
    uow = services.new_uow()
    with uow:
        page = case_page(uow, land.user("triage_officer", "ZZ"), land.case_no)
        [row] = [r for r in page.deadlines["rows"] if r.get("legal")]
    assert (row["legal"]["tid"], row["legal"]["start"]) == ("T-42", date(2025, 3, 6))
    land.do("land_award", land_award_status="awarded", land_award_received_on="2025-03-20")
    land.do("land_sue_window", land_after_award="accepted")
    assert land.ids() == ["submit_result"], "the result report follows the path's end"
    land.do("submit_result", outcome="R5", result_summary="调解不成，已转农村土地承包仲裁并跟踪至裁决生效")
    land.do("review_result", review_decision="approve")
    record_rating(services.new_uow(), land.user("intake_clerk", "ZZ"), case_no=land.case_no,
                  rating="satisfied")
    summary = land.summary()
    assert (summary["status"], summary["outcome"]) == ("closed", "R5")
    assert land.replays().startswith("verified")


def test_not_routing_keeps_the_failed_mediation_as_it_was(services, land):
    land.do("terminate_mediation", termination_reason="当事人放弃", legal_routes_informed="true")
    assert land.ids() == ["submit_result"]
    assert entered(services) == []
    with services.session_factory() as session:
        assert session.scalars(select(CaseLegalPath)).all() == []
    assert land.replays().startswith("verified")


def test_a_petition_after_failed_mediation_enters_the_petition_path(services, land):
    land.do("terminate_mediation", termination_reason="当事人坚持信访", legal_routes_informed="true",
            legal_route="petition")
    assert land.ids() == ["petition_stage_check"]
    assert [a["path"] for a in entered(services)] == ["petition"]
    assert land.replays().startswith("verified")


def test_the_reminder_after_a_failed_mediation_is_a_call_for_the_lead_unit(services, land):
    """The land path's limitation reminder (T-40) to an applicant who prefers the phone: a call
    for the unit that mediated (the case's lead unit), not for the centre."""
    land.do("terminate_mediation", termination_reason="当事人拟申请仲裁", legal_routes_informed="true",
            legal_route="land_arbitration")
    land.do("land_stage_check", land_stage="not_applied")
    land.do("land_infringed", land_right_infringed_on="2025-03-01")
    land.until(local(2026, 12, 1, 9, 1))       # 3 months before the two years end (P21MT9H)
    deliver_pending(services)

    def calls(actor) -> list:
        return [r for r in call_tasks.open_calls(services.new_uow(), actor)
                if r.reason == "limitation_reminder"]

    [row] = calls(land.user("mediator", "JDTJ"))
    assert (row.window_id, row.window_start, row.window_end) == \
        ("T-40", date(2025, 3, 1), date(2027, 3, 1))
    assert [r.id for r in calls(land.user("dept_handler", "JDTJ"))] == [row.id]
    assert calls(land.user("triage_officer", "ZZ")) == [], "the centre follows the path, the unit calls"
    assert land.replays().startswith("verified")
