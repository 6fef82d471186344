"""The expert pool, inviting an expert to a session with the conflict-of-interest check, the
expert's scope and their written opinion as a document of the case."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, OutboxMessage
from tests.bpmn.test_services_mediation import assign, c01, c01_parties, local, to_mediation  # noqa: F401
from tests.factories import Walk, make_user
from tests.workflows.test_mediation_sessions import add_room, ready  # noqa: F401
from workflows.access.policy import actor_for_user
from workflows.cases.parties import PartyInput
from workflows.casework.views import case_page
from workflows.core.actors import SYSTEM, Actor
from workflows.core.errors import ErrorCode, InvalidInput, NotFound, NotPermitted
from workflows.mediation import invitations
from workflows.mediation.conflicts import Conflict
from workflows.mediation.experts import list_experts, parse_days, save_expert
from workflows.models import (
    Case,
    CaseDocument,
    Expert,
    ExpertInvitation,
    MediationSession,
    Role,
    User,
    UserRole,
)

ORG_CODE = "91350100M000100Y43"


def add_expert(services, username: str, *, field: str = "law", unit: str = "JDTJ",
               contact: str = "13700001111", organisation: str = "", org_code: str = "",
               days: str = "") -> tuple[int, Actor]:
    saved = save_expert(services.new_uow(), SYSTEM, {
        "username": username, "display_name": f"专家{username}", "field": field,
        "unit_code": unit, "contact": contact, "organisation": organisation,
        "organisation_code": org_code, "available_days": days})
    return saved.expert_id, actor_of(services, username)


def actor_of(services, username: str) -> Actor:
    with services.session_factory() as session:
        return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def booked_session(services, walk: Walk) -> int:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == walk.case_no)).one()
        return session.scalars(select(MediationSession.id).where(
            MediationSession.case_id == case.id)).one()


@pytest.fixture
def booked(services, ready) -> Walk:  # noqa: F811
    """C01 with a session booked in room A on Tue 2025-03-04 09:00–10:30."""
    ready.schedule("in_person", room="A", start="09:00", end="10:30")
    return ready


def mediator(walk: Walk) -> Actor:
    return walk.user("mediator", "JDTJ")


# -- the pool ------------------------------------------------------------------------------------
def test_an_expert_is_a_user_with_the_expert_role_and_an_encrypted_masked_contact(services, booked):
    expert_id, who = add_expert(services, "lawyer_zhou", contact="139 1234 5670")
    assert who.roles == {"expert"}
    with services.session_factory() as session:
        expert = session.get(Expert, expert_id)
        assert expert.contact_masked == "139****5670"
        assert "13912345670" not in (expert.contact_enc or "")
        saved = session.scalars(select(AuditEvent).where(AuditEvent.action == "expert_saved")).one()
    assert "13912345670" not in saved.payload and "5670" not in saved.payload
    [row] = list_experts(services.new_uow())
    assert (row["name"], row["field"], row["contact_masked"]) == ("专家lawyer_zhou", "law",
                                                                  "139****5670")


def test_every_bad_field_of_an_expert_is_named_at_once(services, booked):
    with pytest.raises(InvalidInput) as refused:
        save_expert(services.new_uow(), SYSTEM, {
            "username": "bad one", "display_name": "", "field": "astrology", "unit_code": "NOPE",
            "contact": "12345", "organisation_code": "91350100M000100Y44",
            "available_days": "周八"})
    errors = refused.value.field_errors
    assert {k: e.code for k, e in errors.items()} == {
        "username": ErrorCode.BAD_USERNAME, "display_name": ErrorCode.DISPLAY_NAME_REQUIRED,
        "field": ErrorCode.EXPERT_FIELD, "unit_code": ErrorCode.UNKNOWN_UNIT,
        "contact": errors["contact"].code, "organisation_code": ErrorCode.CREDIT_CODE_CHECK_DIGIT,
        "available_days": ErrorCode.WEEKDAYS}
    with services.session_factory() as session:
        assert session.scalars(select(Expert)).first() is None, "nothing half-written"
        assert session.scalars(select(User).where(User.username == "bad one")).first() is None


def test_available_days_read_from_numbers_and_words():
    assert parse_days("1,3,5") == [1, 3, 5]
    assert parse_days("周二、星期四 周日") == [2, 4, 7]
    assert parse_days("") == []
    assert parse_days("周一、下午") is None


def test_only_administrators_edit_the_pool(services, booked):
    with pytest.raises(NotPermitted):
        save_expert(services.new_uow(), mediator(booked), {"username": "x", "display_name": "x",
                                                           "field": "law", "unit_code": "JDTJ"})


# -- inviting and the conflict check -----------------------------------------------------------
def test_an_invitation_without_conflicts_tells_the_expert_the_time_and_place(services, booked):
    expert_id, _who = add_expert(services, "lawyer_li")
    session_id = booked_session(services, booked)
    preview = invitations.preview_invitation(services.new_uow(), mediator(booked),
                                             case_no=booked.case_no, session_id=session_id,
                                             expert_id=expert_id)
    assert preview.conflicts == []
    invitations.invite_expert(services.new_uow(), mediator(booked), case_no=booked.case_no,
                              session_id=session_id, expert_id=expert_id,
                              shared_note="楼上卫生间渗漏，双方对维修费用分担有争议")
    with services.session_factory() as session:
        told = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "expert_invited")).one()
        user_id = session.get(Expert, expert_id).user_id
    assert (told.recipient_type, told.recipient_id) == ("user", str(user_id))
    assert told.params["when"] == "2025-03-04 09:00—10:30" and "调解室A" in told.params["place"]
    with pytest.raises(InvalidInput) as again:
        invitations.invite_expert(services.new_uow(), mediator(booked), case_no=booked.case_no,
                                  session_id=session_id, expert_id=expert_id)
    assert again.value.field_errors["expert_id"].code == ErrorCode.ALREADY_INVITED


def test_an_expert_who_is_a_party_is_shown_and_needs_a_reason(services, booked):
    # 刘淑芬 (the applicant) is in the pool with her own mobile number
    expert_id, _who = add_expert(services, "counsellor", field="psychology",
                                 contact="13812345678")
    session_id = booked_session(services, booked)
    preview = invitations.preview_invitation(services.new_uow(), mediator(booked),
                                             case_no=booked.case_no, session_id=session_id,
                                             expert_id=expert_id)
    assert preview.conflicts == [Conflict.IS_PARTY]
    with pytest.raises(InvalidInput) as refused:
        invitations.invite_expert(services.new_uow(), mediator(booked), case_no=booked.case_no,
                                  session_id=session_id, expert_id=expert_id)
    assert refused.value.field_errors["reason"].code == ErrorCode.CONFLICT_NOT_CONFIRMED
    invitations.invite_expert(services.new_uow(), mediator(booked), case_no=booked.case_no,
                              session_id=session_id, expert_id=expert_id,
                              reason="双方当事人书面同意")
    with services.session_factory() as session:
        row = session.scalars(select(ExpertInvitation)).one()
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "expert_invited")).one()
    assert (row.conflicts, row.conflict_reason) == (["is_party"], "双方当事人书面同意")
    assert json.loads(event.payload)["conflicts"] == ["is_party"]
    assert "13812345678" not in event.payload


def test_an_expert_of_a_party_organisation_is_a_conflict(services, clock, booked):
    other = Walk(services, clock)
    other.intake(channel="counter", category="neighbour", summary="物业维修纠纷",
                 description="物业公司未按约维修……",
                 parties=[PartyInput(name="王建国", phone="13700000055"),
                          PartyInput(name="锦苑物业服务有限公司", role="respondent",
                                     kind="organisation", credit_code=ORG_CODE)])
    other.do("register", category="neighbour", urgency="general", people_count="2",
             summary="物业维修纠纷")
    to_mediation(other)
    assign(other)
    other.schedule("online")
    by_code, _a = add_expert(services, "in_house", organisation="某律师事务所", org_code=ORG_CODE)
    by_name, _b = add_expert(services, "by_name", contact="13700002222",
                             organisation=" 锦苑物业服务有限公司 ")
    clean, _c = add_expert(services, "clean", contact="13700003333", organisation="另一家公司")
    session_id = booked_session(services, other)

    def found(expert_id: int) -> list[str]:
        return invitations.preview_invitation(services.new_uow(), mediator(other),
                                              case_no=other.case_no, session_id=session_id,
                                              expert_id=expert_id).conflicts
    assert found(by_code) == found(by_name) == [Conflict.SAME_ORGANISATION]
    assert found(clean) == []


def test_an_expert_who_registered_the_case_had_an_earlier_role(services, clock):
    """A clerk of the centre who is also in the pool registered and checked the case."""
    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(services, clock)
    expert_id, _who = add_expert(services, "clerk_expert", unit="ZZ")
    with services.session_factory() as session:   # the same account also works as a clerk
        user = session.scalars(select(User).where(User.username == "clerk_expert")).one()
        role = session.scalars(select(Role).where(Role.code == "intake_clerk")).one()
        session.add(UserRole(user_id=user.id, role_id=role.id, department_id=user.department_id))
        session.commit()
    walk.users[("intake_clerk", "ZZ")] = actor_of(services, "clerk_expert")
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="卫生间长期渗漏……", parties=c01_parties())
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    to_mediation(walk)
    assign(walk)
    walk.schedule("online")
    found = invitations.preview_invitation(services.new_uow(), mediator(walk),
                                           case_no=walk.case_no,
                                           session_id=booked_session(services, walk),
                                           expert_id=expert_id).conflicts
    assert found == [Conflict.COMPLETED_TASK, Conflict.CASE_PARTICIPANT]


def test_only_the_case_mediator_invites(services, booked):
    expert_id, _who = add_expert(services, "lawyer_wu")
    session_id = booked_session(services, booked)
    for someone in (make_user(services, "mediator", "JDTJ"), booked.user("intake_clerk", "ZZ")):
        with pytest.raises(NotPermitted):
            invitations.invite_expert(services.new_uow(), someone, case_no=booked.case_no,
                                      session_id=session_id, expert_id=expert_id)
    with services.session_factory() as session:
        assert session.scalars(select(ExpertInvitation)).first() is None
        denials = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "access_denied")).all()
    assert len(denials) == 2


def test_a_day_the_expert_is_not_available_is_refused(services, booked):
    expert_id, _who = add_expert(services, "weekends", days="6,7")     # the session is a Tuesday
    with pytest.raises(InvalidInput) as refused:
        invitations.preview_invitation(services.new_uow(), mediator(booked),
                                       case_no=booked.case_no,
                                       session_id=booked_session(services, booked),
                                       expert_id=expert_id)
    assert refused.value.field_errors["expert_id"].code == ErrorCode.EXPERT_NOT_AVAILABLE


# -- the expert's scope and opinion ------------------------------------------------------------
@pytest.fixture
def invited(services, booked) -> tuple[Walk, Actor, int]:
    expert_id, who = add_expert(services, "lawyer_chen")
    inv = invitations.invite_expert(services.new_uow(), mediator(booked), case_no=booked.case_no,
                                    session_id=booked_session(services, booked),
                                    expert_id=expert_id, shared_note="维修费用4000元如何分担")
    return booked, who, inv


def test_the_expert_sees_the_invited_case_masked_and_nothing_else(services, clock, invited):
    walk, who, inv = invited
    [mine] = invitations.my_invitations(services.new_uow(), who)
    assert (mine["case_no"], mine["state"]) == (walk.case_no, "pending")
    page = invitations.expert_case(services.new_uow(), who, inv)
    assert page.invitation["shared_note"] == "维修费用4000元如何分担"
    assert {p["name"] for p in page.parties} == {"刘**", "陈**"}
    shown = repr(page)
    for secret in ("刘淑芬", "13812345678", "110101196203150020", "402室"):
        assert secret not in shown
    with services.session_factory() as session:
        views = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "party_viewed", AuditEvent.actor_id == who.id)).all()
    assert len(views) == 1 and json.loads(views[0].payload)["rule"] == "expert_case.invited"
    # the case pages, and another expert's invitation, are out of scope
    with pytest.raises(NotPermitted):
        case_page(services.new_uow(), who, walk.case_no)
    _other_id, other = add_expert(services, "other_lawyer", contact="13700004444")
    with pytest.raises(NotFound):
        invitations.expert_case(services.new_uow(), other, inv)
    assert invitations.my_invitations(services.new_uow(), other) == []


def test_the_expert_completes_no_task(services, invited):
    walk, who, _inv = invited
    with pytest.raises(NotPermitted):
        walk.attend(actor=who, applicant_attendance="in_person",
                respondent_attendance="in_person")
    assert walk.ids() == ["record_attendance"]


def test_the_written_opinion_is_a_document_of_the_case_once(services, invited):
    walk, who, inv = invited
    with pytest.raises(InvalidInput) as empty:
        invitations.submit_opinion(services.new_uow(), who, inv, {"opinion": " "})
    assert empty.value.field_errors["opinion"].code == ErrorCode.OPINION_REQUIRED
    with pytest.raises(InvalidInput) as personal:
        invitations.submit_opinion(services.new_uow(), who, inv,
                                   {"opinion": "请联系申请人 13812345678"})
    assert "opinion" in personal.value.field_errors
    doc_id = invitations.submit_opinion(services.new_uow(), who, inv, {
        "opinion": "502室防水层老化是渗漏原因，应承担维修责任。",
        "basis": "《民法典》第二百八十八条、第一千一百六十五条",
        "recommendation": "被申请人承担维修费，双方协商赔偿金额。"})
    with services.session_factory() as session:
        doc = session.get(CaseDocument, doc_id)
        row = session.get(ExpertInvitation, inv)
        told = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "expert_opinion")).one()
    assert doc.kind == "expert_opinion" and doc.title.startswith("专家书面意见（专家lawyer_chen，")
    assert "民法典" in doc.body and row.status == "submitted" and row.document_id == doc_id
    assert told.recipient_id == mediator(walk).id
    page = case_page(services.new_uow(), mediator(walk), walk.case_no)
    assert doc_id in [d["id"] for d in page.documents]
    [session_row] = page.sessions
    assert [(e["status"], e["document_id"]) for e in session_row["experts"]] == [
        ("submitted", doc_id)]
    with pytest.raises(InvalidInput) as twice:
        invitations.submit_opinion(services.new_uow(), who, inv, {"opinion": "改一下"})
    assert twice.value.field_errors["opinion"].code == ErrorCode.OPINION_SUBMITTED
    [mine] = invitations.my_invitations(services.new_uow(), who)
    assert mine["state"] == "done"


def test_a_moved_then_cancelled_session_tells_the_invited_expert(services, invited):
    from datetime import timedelta

    from engine.deadlines import SHANGHAI
    from workflows.casework.sessions import cancel_session, reschedule_session

    walk, who, _inv = invited
    day = (walk.clock.now().astimezone(SHANGHAI) + timedelta(days=2)).date().isoformat()
    session_id = booked_session(services, walk)
    reschedule_session(services.new_uow(), mediator(walk), case_no=walk.case_no,
                       session_id=session_id, form={
                           "session_mode": "in_person", "room_code": "A", "session_date": day,
                           "session_start": "14:00", "session_end": "15:00"})
    cancel_session(services.new_uow(), mediator(walk), case_no=walk.case_no,
                   session_id=session_id, reason="申请人住院")
    with services.session_factory() as session:
        told = {m.template: m for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient_type == "user", OutboxMessage.recipient_id == who.id))}
    assert set(told) == {"expert_invited", "session_rescheduled", "session_cancelled"}
    assert told["session_rescheduled"].params["when"] == f"{day} 14:00—15:00"
