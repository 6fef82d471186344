"""The 时限 panel's services: what it lists, suspension and extension requested by the handler,
decided by a different supervisor, capped, every step and every refusal audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent, OutboxMessage
from tests.factories import IDS, Walk, make_user
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework.views import case_page
from workflows.core.errors import InvalidInput, NotPermitted
from workflows.deadlines import case_panel as D
from workflows.models import SlaClock
from workflows.models.scheduling import SlaRequest


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(services, clock) -> Walk:
    """C01-like neighbour dispute (lead JDTJ, co WY, mediation): in handling since Tue 10:00, so
    its resolution clock (statutory_months(1)) runs; the co-department's order is open."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="卫生间长期渗漏至楼下……",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678"),
                         PartyInput(name="陈立伟", role="respondent", id_number=IDS["陈立伟"],
                                    phone="13912345678")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    walk.do("sign_off", sign_off_decision="accept")
    clock.set(local(2025, 3, 4, 10, 0))
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    return walk


def handler(walk: Walk):
    return walk.user("dept_handler", "JDTJ")


def supervisor(walk: Walk):
    return walk.user("supervisor", "ZZ")


def panel(walk: Walk, actor) -> dict:
    return case_page(walk.services.new_uow(), actor, walk.case_no).deadlines


def clock_of(walk: Walk) -> SlaClock:
    with walk.services.session_factory() as session:
        case = find_case(session, walk.case_no)
        return session.scalars(select(SlaClock).where(SlaClock.case_id == case.id,
                                                      SlaClock.kind == "resolution")).one()


def events(services, action: str) -> list[dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id))
        return [json.loads(r.payload) for r in rows]


def ask(walk: Walk, actor=None, **form) -> int:
    fields = {"kind": "resolution", "request_kind": "suspend", "reason": "等待司法鉴定结论"}
    fields.update(form)
    return D.request_clock_change(walk.services.new_uow(), actor or handler(walk),
                                  case_no=walk.case_no, **fields)


def decide(walk: Walk, request_id: int, actor=None, approve: bool = True) -> None:
    D.decide_clock_request(walk.services.new_uow(), actor or supervisor(walk),
                           case_no=walk.case_no, request_id=request_id, approve=approve,
                           note="同意")


def test_the_panel_lists_process_timers_and_the_clock_earliest_first(walk):
    rows = panel(walk, handler(walk))["rows"]
    assert rows == sorted(rows, key=lambda r: r["due_at"])
    timers = {r["name"]: r for r in rows if r["source"] == "process"}
    assert timers["签收超时"]["task"] == "协办签收或退单"        # the co-department's sign-off
    assert timers["签收超时"]["due_at"] == local(2025, 3, 5, 10, 0)
    assert timers["签收预警（75%）"]["deadline"] is False          # a reminder, not the limit
    [clock] = [r for r in rows if r["source"] == "clock"]
    assert (clock["kind"], clock["due_at"], clock["light"], clock["state"]) == \
        ("resolution", local(2025, 4, 8, 0, 0), "green", "running")
    assert clock["can_request"] is True


def test_suspension_requested_approved_by_another_person_and_ended(walk, services, clock):
    request_id = ask(walk)
    assert panel(walk, handler(walk))["requests"][0]["status"] == "pending"
    assert events(services, "sla_requested")[-1]["reason"] == "等待司法鉴定结论"
    with services.session_factory() as session:   # the supervisors are told (no personal data)
        note = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "sla_request")).one()
        assert note.recipient_type == "role" and note.recipient_id == "supervisor"
    clock.set(local(2025, 3, 5, 10, 0))
    decide(walk, request_id)
    paused = clock_of(walk)
    assert paused.paused_at == local(2025, 3, 5, 10, 0)
    row = next(r for r in panel(walk, supervisor(walk))["rows"] if r["source"] == "clock")
    assert row["state"] == "paused"
    assert events(services, "sla_decided")[-1]["approved"] is True
    clock.set(local(2025, 3, 12, 10, 0))                             # a week later
    D.end_clock_suspension(services.new_uow(), handler(walk), case_no=walk.case_no,
                           request_id=request_id)
    resumed = clock_of(walk)
    assert resumed.paused_at is None and resumed.due_at == paused.due_at + timedelta(days=7)
    assert [e["event"] for e in events(services, "sla_changed")][-2:] == ["paused", "resumed"]


def test_the_requester_may_not_decide_and_the_refusal_is_audited(walk, services):
    both = make_user(services, ["dept_handler", "supervisor"], "JDTJ")
    request_id = ask(walk, both)
    with pytest.raises(NotPermitted) as refused:
        decide(walk, request_id, both)
    assert refused.value.rule == "sla_decide.four_eyes" and refused.value.audited
    assert events(services, "access_denied")[-1]["rule"] == "sla_decide.four_eyes"
    with services.session_factory() as session:
        assert session.get(SlaRequest, request_id).status == "pending"
    decide(walk, request_id, approve=False)                          # another supervisor
    assert clock_of(walk).paused_at is None
    assert panel(walk, handler(walk))["requests"][0]["status"] == "rejected"


def test_only_the_lead_handler_or_the_assigned_mediator_may_ask(walk, services):
    co_handler = walk.user("dept_handler", "WY")                     # co-department
    with pytest.raises(NotPermitted) as refused:
        ask(walk, co_handler)
    assert refused.value.rule == "sla_request.not_handler"
    with pytest.raises(NotPermitted):
        ask(walk, supervisor(walk))                                  # supervisors decide only
    assert [e["rule"] for e in events(services, "access_denied")] == \
        ["sla_request.not_handler", "request_sla_change.role"]
    assert panel(walk, co_handler)["can_request"] is False


def test_an_extension_moves_the_due_time_once_and_no_further_than_the_period(walk, services):
    with pytest.raises(InvalidInput) as invalid:
        ask(walk, request_kind="extend", amount="0", unit="working_days")
    assert "extension" in invalid.value.field_errors
    with pytest.raises(InvalidInput) as invalid:
        ask(walk, reason="  ")
    assert "reason" in invalid.value.field_errors
    before = clock_of(walk).due_at
    decide(walk, ask(walk, request_kind="extend", amount="10", unit="statutory_days",
                     reason="双方同意延长调解"))
    extended = clock_of(walk)
    assert extended.due_at > before and extended.due_at == local(2025, 4, 18, 0, 0)
    row = next(r for r in panel(walk, handler(walk))["rows"] if r["source"] == "clock")
    assert row["extended"] is True
    second = ask(walk, request_kind="extend", amount="5", unit="working_days", reason="再延")
    with pytest.raises(InvalidInput) as capped:
        decide(walk, second)
    assert "extension" in capped.value.field_errors
    assert clock_of(walk).due_at == extended.due_at


def test_a_second_pending_request_for_the_same_clock_is_refused(walk):
    ask(walk)
    with pytest.raises(InvalidInput) as invalid:
        ask(walk, request_kind="extend", amount="3", unit="working_days")
    assert "request_kind" in invalid.value.field_errors


def test_a_co_department_sees_the_requests_but_not_their_free_text(walk):
    ask(walk)
    [mine] = panel(walk, handler(walk))["requests"]
    [theirs] = panel(walk, walk.user("dept_handler", "WY"))["requests"]
    assert mine["reason"] == "等待司法鉴定结论"
    assert theirs["status"] == "pending" and theirs["reason"] is None
