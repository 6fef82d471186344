"""Every statement a task completion or a registration sends is compiled once per process and
then taken from SQLAlchemy's cache: a statement without a cache key is compiled anew at every
execution (about a millisecond or two each on PostgreSQL), and its text may change with its
rows, so psycopg cannot keep it prepared either (checked with an SQLAlchemy event listener on
what each execution did; never timed)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.interfaces import CacheStats

from engine.models import AuditEvent
from tests.bpmn.test_services_general import local, noise_request
from tests.factories import Walk
from tests.workflows.test_step_statements import counted
from workflows.audit.log import AuditAction, verify_chains
from workflows.cases.lookup import load_case
from workflows.casework.tasks import complete_task
from workflows.intake.register import submit_intake
from workflows.models import CaseEvent

CACHED = (CacheStats.CACHE_HIT, CacheStats.CACHE_MISS)


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


@contextmanager
def uncached(engine) -> Iterator[list[str]]:
    """The statements executed meanwhile that SQLAlchemy compiled without a cache key (or with
    caching turned off); text sent as it is (BEGIN IMMEDIATE, the harness's SAVEPOINTs) aside."""
    found: list[str] = []

    def note(_conn, _cursor, statement, _params, context, _many) -> None:
        if context is None or context.compiled is None or context.cache_hit in CACHED:
            return
        text = statement.lstrip()
        if not text.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            found.append(f"{context.cache_hit.name}: {statement}")

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_registering_a_case_and_taking_it_through_its_steps_sends_only_cached_statements(
        walk, db_engine):
    clerk = walk.user("intake_clerk", "ZZ")
    with uncached(db_engine) as found:
        walk.case_no = submit_intake(walk.services.new_uow(), clerk, noise_request()).case_no
    assert not found, "\n".join(found)

    def do(bpmn_id: str, dept: str | None = None, **form) -> None:
        task = walk.task(bpmn_id, dept)
        actor = walk.actor_for(task)
        with uncached(db_engine) as found:
            complete_task(walk.services.new_uow(), actor, case_no=walk.case_no,
                          task_id=task["task_id"], raw=form)
        assert not found, f"{bpmn_id}:\n" + "\n".join(found)

    do("register", category=walk.summary()["category"], urgency="general", people_count="1",
       summary="夜间施工噪声")
    do("sign_off", sign_off_decision="accept")
    do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    do("co_sign_off", "JD", co_sign_off_decision="accept")
    do("co_handle", "JD", co_result="街道已协调工地", co_result_status="done")
    do("lead_consolidate", joint_result="已责令停止夜间施工", joint_outcome="resolved")
    do("submit_result", outcome="R2", result_summary="责令停止夜间施工")
    do("review_result", review_decision="return", review_note="未附检测报告")
    with walk.services.session_factory() as session:
        case_id = session.scalar(select(CaseEvent.case_id).order_by(CaseEvent.position.desc()))
        assert verify_chains(session, walk.services.keyring, [f"case:{case_id}"]).ok


def appended(walk, db_engine, notes: list[str]) -> list[str]:
    """Commit one audit event per note on the case's chain; the statements that wrote them."""
    supervisor = walk.user("supervisor", "ZZ")
    uow = walk.services.new_uow()
    with uow:
        case = load_case(uow, supervisor, walk.case_no)       # the chain's head read with it
        for note in notes:
            uow.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, note=note)
        with counted(db_engine) as statements:
            uow.commit()
    return [s for s in statements if " audit_event " in f" {s} "]


def test_one_event_or_three_go_in_with_the_same_statement_text(walk, db_engine):
    """The rows are bound as parameters, never spelled into the statement: its text is the same
    whatever the number of events (on PostgreSQL, where head and events are one statement, too)."""
    walk.intake(**vars(noise_request()))
    one = appended(walk, db_engine, ["一"])
    three = appended(walk, db_engine, ["二", "三, \"引号\" {NULL}", "\\"])
    assert len(one) == 1 and one == three, "\n".join(one + three)
    if db_engine.dialect.name == "postgresql":
        assert " ".join(one[0].split()).startswith("WITH head AS (UPDATE audit_chain_head"), one[0]
    with walk.services.session_factory() as session:
        case_id = session.scalar(select(CaseEvent.case_id).order_by(CaseEvent.position.desc()))
        chain = f"case:{case_id}"
        payloads = session.scalars(select(AuditEvent.payload).where(AuditEvent.chain_key == chain)
                                   .order_by(AuditEvent.seq)).all()
        assert payloads[-4:] == ['{"note":"一"}', '{"note":"二"}',
                                 '{"note":"三, \\"引号\\" {NULL}"}', '{"note":"\\\\"}']
        assert verify_chains(session, walk.services.keyring, [chain]).ok
