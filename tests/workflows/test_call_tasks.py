"""The call list (待回电): a rights reminder to a citizen who prefers the phone becomes a call task
that names the window (T-id, typed start, last day), is listed to the unit responsible for the
case, reveals the number only through the audited reveal, and is completed once (the second
completion is refused); the outcome is audited without the note, the note holds no personal
data and is stored encrypted; the list costs the same statements whatever its length."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import IDS, Walk
from workflows.cases.parties import PartyInput
from workflows.casework import call_tasks
from workflows.core.errors import ErrorCode, InvalidInput, NotFound
from workflows.intake.register import IntakeRequest
from workflows.models import CallTask
from workflows.notify.delivery import deliver_pending


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def request(name: str = "刘淑芬", preference: str = "phone", phone: str = "13812345678") -> dict:
    return vars(IntakeRequest(
        channel="counter", category="labour", summary="劳动仲裁已裁决",
        description="当事人已收到劳动仲裁裁决书", statutory_channel=True,
        parties=[PartyInput(name=name, id_number=IDS[name], phone=phone,
                            contact_preference=preference)]))


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 9, 22, 9, 0))
    return Walk.ready(services, clock)


def reminded(walk: Walk, **party) -> str:
    """A labour award received on 09-20; on day 10 at 09:00 the worker is reminded (T-07).
    Returns the case code (the web and browser tests of the call list walk the same case)."""
    walk.intake(**request(**party))
    walk.do("register", category="labour", urgency="general", people_count="1",
            statutory_channel="true", summary="劳动仲裁已裁决")
    walk.do("statutory_guidance", statutory_route="labour_award",
            statutory_guidance_text="告知起诉期限")
    walk.do("labour_stage_check", labour_stage="awarded")
    walk.do("labour_award_receipt", labour_award_received_on="2025-09-20",
            labour_award_kind="non_final")
    walk.until(local(2025, 9, 30, 9, 1))
    deliver_pending(walk.services)
    return walk.case_no


def calls(walk: Walk, actor, reason: str | None = "sue_window") -> list[call_tasks.CallRow]:
    """The actor's open calls (about the window reminder: the receipt and the written guidance
    were calls too)."""
    rows = call_tasks.open_calls(walk.services.new_uow(), actor)
    return [r for r in rows if reason is None or r.reason == reason]


def events(services, action: str) -> list[dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
        return [{**json.loads(r.payload or "{}"), "object_id": r.object_id} for r in rows]


def test_the_reminder_becomes_a_call_that_names_the_window(services, walk):
    reminded(walk)
    triage = walk.user("triage_officer", "ZZ")
    [row] = calls(walk, triage)
    assert row.case_no == walk.case_no and row.reason == "sue_window"
    assert (row.window_id, row.window_start, row.window_end) == \
        ("T-07", date(2025, 9, 20), date(2025, 10, 9)), "15 days end in National Day: 10-09"
    assert row.name == "刘**" and row.phone != "13812345678" and row.phone.endswith("5678")
    assert row.due_at == local(2025, 10, 10, 0, 0), "the next working day, the window's last day"
    assert sorted(r.reason for r in calls(walk, triage, None)) == \
        ["receipt", "statutory_guidance", "sue_window"], "every notice by phone is a call"
    assert call_tasks.open_count(services.new_uow(), triage) == 3
    # another unit's handler, a supervisor and the citizen's SMS peers see nothing
    assert calls(walk, walk.user("dept_handler", "WY")) == []
    assert call_tasks.open_count(services.new_uow(), walk.user("supervisor", "ZZ")) == 0


def test_a_citizen_who_prefers_sms_gets_no_call(services, walk):
    reminded(walk, preference="sms")
    with services.session_factory() as session:
        assert session.scalars(select(CallTask)).all() == []


def test_reveal_is_audited_and_scoped(services, walk):
    reminded(walk)
    [row] = calls(walk, walk.user("triage_officer", "ZZ"))
    with pytest.raises(NotFound):   # out of scope: nothing revealed, nothing audited as a reveal
        call_tasks.reveal_phone(services.new_uow(), walk.user("dept_handler", "WY"), row.id)
    assert events(services, "party_unmasked") == []
    phone = call_tasks.reveal_phone(services.new_uow(), walk.user("triage_officer", "ZZ"), row.id)
    assert phone == "13812345678"
    [reveal] = events(services, "party_unmasked")
    assert (reveal["purpose"], reveal["object_id"]) == ("contact", row.party_id)
    assert "13812345678" not in str(reveal), "the audit names the reveal, not the number"


def test_done_once_with_a_clean_note(services, walk):
    reminded(walk)
    triage = walk.user("triage_officer", "ZZ")
    [row] = calls(walk, triage)
    with pytest.raises(InvalidInput) as bad:
        call_tasks.complete_call(services.new_uow(), triage, row.id, outcome="maybe", note="")
    assert "outcome" in bad.value.field_errors
    with pytest.raises(InvalidInput) as leaked:
        call_tasks.complete_call(services.new_uow(), triage, row.id, outcome="reached",
                                 note="已告知，她的新号码 13900001111")
    assert leaked.value.field_errors["note"].code == ErrorCode.PERSONAL_DATA_IN_TEXT
    with pytest.raises(NotFound):
        call_tasks.complete_call(services.new_uow(), walk.user("dept_handler", "WY"), row.id,
                                 outcome="reached")
    assert calls(walk, triage) != [], "nothing was written by the refusals"
    call_tasks.complete_call(services.new_uow(), triage, row.id, outcome="reached",
                             note="已告知起诉期限，当事人表示会去法院")
    assert calls(walk, triage) == []
    with pytest.raises(call_tasks.CallTaskTaken):   # a colleague completing it too: a 409
        call_tasks.complete_call(services.new_uow(), walk.user("intake_clerk", "ZZ"), row.id,
                                 outcome="not_reached")
    with services.session_factory() as session:
        done = session.get(CallTask, row.id)
        assert (done.status, done.outcome) == ("done", "reached")
        assert done.note_enc and "法院" not in done.note_enc, "the note is stored encrypted"
    [audit] = events(services, "call_task_completed")
    assert audit["outcome"] == "reached" and audit["window"] == "T-07"
    assert "法院" not in str(audit), "the note is not in the audit payload"


def test_the_list_costs_the_same_statements_whatever_its_length(services, walk):
    reminded(walk)
    triage = walk.user("triage_officer", "ZZ")
    [first] = calls(walk, triage)
    with services.session_factory() as session:
        template = session.get(CallTask, first.id)
        for _ in range(7):
            session.add(CallTask(case_id=template.case_id, party_id=template.party_id,
                                 department_id=None, reason="sue_window", status="open",
                                 created_at=template.created_at, due_at=template.due_at))
        session.commit()

    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(services.db, "before_cursor_execute", count)
    try:
        rows = calls(walk, triage)
    finally:
        event.remove(services.db, "before_cursor_execute", count)
    selects = [s for s in seen if s.lstrip().upper().startswith("SELECT")]
    print(f"call list of {len(rows)} rows: {len(seen)} statements, {len(selects)} SELECT")
    assert len(rows) == 8 and len(selects) == 1
