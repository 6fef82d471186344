"""Mediation tasks belong to the assigned mediator, not to the lead department (C02: lead 住建 ZJ,
mediator of the street committee JDTJ)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.factories import Walk, make_user
from workflows.cases.parties import PartyInput
from workflows.core.errors import NotPermitted


@pytest.fixture
def c02(services, clock) -> Walk:
    """C02 (lead ZJ, co-departments SJ, JD, SQTJ) walked to the mediator's assignment."""
    walk = Walk.ready(services, clock)
    walk.intake(channel="hotline_12345", category="property_collective", people_count=62,
                summary="电梯停运两周", description="锦绣家园3栋两部电梯已停运两周……",
                parties=[PartyInput(name="周海燕", phone="13912345678")])
    walk.do("register", category="property_collective", urgency="general", people_count="62",
            summary="电梯停运两周，62户")
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系业主代表")
    for dept in ("SJ", "JD", "SQTJ"):
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
        walk.do("co_handle", dept, co_result="已配合", co_result_status="done")
    walk.do("lead_consolidate", joint_result="维修方案已定", joint_outcome="partly_resolved")
    walk.do("confirm_consent", consent="both_agree", consent_note="业主代表与物业同意调解")
    return walk


def _register(walk: Walk, actor) -> None:
    walk.do("register_mediation", actor=actor, rights_notice_acknowledged="true",
            mediation_publicity="public", mediation_registration_note="登记")


def _denials(services, rule: str) -> list[dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "access_denied")
                               .order_by(AuditEvent.id))
        return [p for p in (json.loads(r.payload) for r in rows) if p.get("rule") == rule]


def test_the_assigned_mediator_of_another_unit_conducts_the_mediation(services, c02):
    walk = c02
    mediator = walk.user("mediator", "JDTJ")           # street committee, not the lead ZJ
    walk.do("assign_mediator", mediator_id=mediator.username, mediator_chosen_by="committee",
            conflict_check="no_conflict")
    task = walk.task("register_mediation")
    assert task["assignee_id"] == int(mediator.id)
    assert task["dept"] is None                         # the lead's department does not decide
    _register(walk, mediator)
    assert "schedule_session" in walk.ids()
    assert walk.summary()["status"] == "in_mediation"


def test_a_mediator_not_assigned_stays_refused_and_the_denial_is_audited(services, c02):
    walk = c02
    assigned = walk.user("mediator", "JDTJ")
    walk.do("assign_mediator", mediator_id=assigned.username, mediator_chosen_by="committee",
            conflict_check="no_conflict")
    lead_mediator = make_user(services, ["mediator", "dept_handler"], "ZJ")  # sees the case
    colleague = make_user(services, "mediator", "JDTJ")                     # does not
    for other, rule in ((lead_mediator, "complete_task.assignee"),
                        (colleague, "view_case.scope")):
        with pytest.raises(NotPermitted) as refused:
            _register(walk, other)
        assert refused.value.rule == rule
        assert refused.value.audited is True
        denials = _denials(services, rule)
        assert len(denials) == 1                        # audited once, no personal data
        assert denials[0]["decision"] == "deny" and "周海燕" not in json.dumps(denials[0])
    assert "schedule_session" not in walk.ids()
