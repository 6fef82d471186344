"""A commit appends its audit events and case events together with their head's move, one
statement each: a writable CTE on PostgreSQL, an INSERT whose rows move the head by a trigger on
SQLite (only a chain's first events take two there: the head's INSERT, then theirs); the chains
verify and positions follow on from the head either way, and events linked from a head that has
moved since it was read go in after where it is now (statements counted with an SQLAlchemy
event listener; never timed)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import delete, func, select, text

from engine.models import AuditChainHead, AuditEvent
from tests.bpmn.test_services_general import local, noise_request, registered
from tests.factories import Walk
from tests.workflows.test_step_statements import counted
from workflows.audit.log import AuditAction, note_case_head, verify_chains
from workflows.cases.lookup import load_case
from workflows.intake.register import submit_intake
from workflows.models import Case, CaseEvent, CaseEventHead

# statements a commit sends for a chain's first events and their new head
FIRST = {"postgresql": 1, "sqlite": 2}


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def touching(statements: list[str], *tables: str) -> list[str]:
    return [s for s in statements if any(f" {table} " in f" {s} " for table in tables)]


def test_events_on_a_head_read_with_the_case_go_in_with_its_move(walk, db_engine):
    registered(walk)
    supervisor = walk.user("supervisor", "ZZ")
    uow = walk.services.new_uow()
    with uow:
        case = load_case(uow, supervisor, walk.case_no)       # the head is read here
        chain = f"case:{case.id}"
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="一")
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="二")
        with counted(db_engine) as statements:
            uow.commit()
    sent = touching(statements, "audit_chain_head", "audit_event")
    assert len(sent) == 1, "\n".join(sent)
    with walk.services.session_factory() as session:
        rows = session.execute(select(AuditEvent.seq, AuditEvent.payload)
                               .where(AuditEvent.chain_key == chain)
                               .order_by(AuditEvent.seq)).all()
        assert [json.loads(payload).get("why") for _seq, payload in rows[-2:]] == ["一", "二"]
        assert [seq for seq, _payload in rows] == list(range(1, len(rows) + 1))
        assert verify_chains(session, walk.services.keyring, [chain]).ok


def test_a_new_case_starts_its_chain_and_its_event_log_entry_with_their_heads(walk, db_engine):
    clerk = walk.user("intake_clerk", "ZZ")
    with walk.services.session_factory() as session:
        before = session.scalar(select(CaseEventHead.last_position))
    with counted(db_engine) as statements:
        outcome = submit_intake(walk.services.new_uow(), clerk, noise_request())
    first = FIRST[db_engine.dialect.name]
    assert len(touching(statements, "audit_chain_head", "audit_event")) == first, "\n".join(statements)
    assert len(touching(statements, "case_event_head", "case_event")) == 1, "\n".join(statements)
    with walk.services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == outcome.case_no)).one()
        assert verify_chains(session, walk.services.keyring, [f"case:{case.id}"]).ok
        events = session.execute(select(CaseEvent.position, CaseEvent.kind, CaseEvent.data)
                                 .where(CaseEvent.case_id == case.id)).all()
        assert [(p, k, d["case_no"]) for p, k, d in events] == [
            (before + 1, "registered", outcome.case_no)]
        assert session.scalar(select(CaseEventHead.last_position)) == before + 1


def test_without_the_event_logs_head_row_the_first_events_start_at_one(walk, db_engine):
    """A database made without the migration's seed row: the head's move matches nothing, so
    nothing is inserted with it, and the row is created with the events."""
    with walk.services.new_uow() as uow:
        assert uow.session.scalar(select(CaseEvent.position).limit(1)) is None
        uow.session.execute(delete(CaseEventHead))
        uow.commit()
    submit_intake(walk.services.new_uow(), walk.user("intake_clerk", "ZZ"), noise_request())
    registered(walk, name="陈立伟")                  # and on from there
    with walk.services.session_factory() as session:
        events = session.execute(select(CaseEvent.position, CaseEvent.kind)
                                 .order_by(CaseEvent.position)).all()
        assert events[0] == (1, "registered")
        assert [position for position, _kind in events] == list(range(1, len(events) + 1))
        assert session.scalar(select(CaseEventHead.last_position)) == len(events)


def test_events_linked_from_a_head_that_moved_since_its_read_go_in_after_it(walk):
    registered(walk)
    supervisor = walk.user("supervisor", "ZZ")
    uow = walk.services.new_uow()
    with uow:
        case = load_case(uow, supervisor, walk.case_no)       # the head is read here
        chain = f"case:{case.id}"
        seq, last = uow.session.execute(select(AuditChainHead.last_seq, AuditChainHead.last_hash)
                                        .where(AuditChainHead.chain_key == chain)).one()
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="一")
        uow.audit.append_pending()                           # the head moves past the read
        note_case_head(uow.session, case.id, seq, last)      # as a read from before that
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="二")
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="三")
        uow.commit()
    with walk.services.session_factory() as session:
        rows = session.execute(select(AuditEvent.seq, AuditEvent.payload)
                               .where(AuditEvent.chain_key == chain)
                               .order_by(AuditEvent.seq)).all()
        assert [json.loads(payload).get("why") for _seq, payload in rows[-3:]] == ["一", "二", "三"]
        assert [seq for seq, _payload in rows] == list(range(1, len(rows) + 1))
        assert session.scalar(select(AuditChainHead.last_seq)
                              .where(AuditChainHead.chain_key == chain)) == len(rows)
        assert verify_chains(session, walk.services.keyring, [chain]).ok


def test_on_sqlite_a_database_without_the_head_triggers_refuses_to_append(walk, db_engine):
    """Without migration 0045's triggers the heads would stay behind their events: the append
    fails and the transaction writes nothing, rather than break the chain."""
    if db_engine.dialect.name != "sqlite":
        pytest.skip("the triggers are SQLite's")
    registered(walk)
    supervisor = walk.user("supervisor", "ZZ")
    with walk.services.session_factory() as session:
        session.execute(text("DROP TRIGGER audit_event_moves_head"))
        session.commit()
        before = session.scalar(select(func.count()).select_from(AuditEvent))
    uow = walk.services.new_uow()
    with pytest.raises(RuntimeError, match="head did not follow"), uow:
        case = load_case(uow, supervisor, walk.case_no)
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="一")
        uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="二")
        uow.commit()
    with walk.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == before
