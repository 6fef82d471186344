"""A task completion issues a bounded number of SQL statements whatever the case's length, and so
does registering a case (counted with an SQLAlchemy event listener; never timed)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from tests.bpmn.test_services_general import handle_to_review, local, noise_request, registered
from tests.factories import Walk
from workflows.casework.tasks import complete_task
from workflows.intake.register import submit_intake

# what one completion needs: the case (read with its scope, the actor's participation, its
# instance row, its audit chain's head and the directory stamp), the case's rows in one read (its
# orders with their watch rows and notices, its clocks, its instance's open tasks), the writes (a
# closed task's open row taken over by the new task: one UPDATE), the audit head's move and
# events, the case event log, and the case queued for the cockpit's rollups (one statement: a
# catch-up applies it later, off the step); no units and no lane roles: the process keeps them
# while the stamp is unchanged (tests/workflows/test_directory_cache.py); SAVEPOINTs of the test
# harness excluded; the bounds are what it takes today, so one more statement fails here.
# The audit head's move and its events are one statement, and so are the case event head's and
# its events: writable CTEs on PostgreSQL (workflows/core/head_append.py), triggers on the
# appended rows on SQLite (migration 0045)
STEP_STATEMENTS = {"sqlite": 12, "postgresql": 12}
# the reads of any step: the case and the case's rows; a clock started or stopped, an open task's
# ready time or a co-department's access check read nothing more
STEP_READS = 2
# registration in a fresh process, the first case of its year: the version's files, the units
# (with the directory stamp), the lane roles and the year's case counter are read or created
# once (later registrations send fewer; over HTTP the caller's read brings the stamp and the
# units and roles are not read again: tests/web/test_directory_stamp_pages.py);
# one query for both person rules, the code checked free as the counter moves (no savepoint),
# the narrative in the case's one INSERT, the case type's live version in one query, the
# parties not read back (nor for the receipt); the instance INSERTed with its state, the case's
# link to it in the UPDATE of the fields the projection sets, the receipt in one INSERT (its
# signing copy bound to the case), the clerk and unit in one query; nothing read that a case
# inserted in this transaction cannot have yet (orders, clocks, watch rows, notices, open
# tasks, audit chain); the new case queued for the cockpit's rollups in one statement; on
# PostgreSQL the chain's first head and events are one statement (SQLite: two), the case event
# log's move and event another
INTAKE_STATEMENTS = {"sqlite": 27, "postgresql": 26}


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


@contextmanager
def counted(engine):
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", note)


def review_returned(walk, engine) -> list[str]:
    """Return the case from review (one completion) and count what it sends."""
    task = walk.task("review_result")
    actor = walk.actor_for(task)
    with counted(engine) as statements:
        complete_task(walk.services.new_uow(), actor, case_no=walk.case_no,
                      task_id=task["task_id"], raw={"review_decision": "return",
                                                    "review_note": "未附检测报告"})
    return statements


def test_a_completion_sends_as_many_statements_on_a_long_case_as_on_a_short_one(walk, db_engine):
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    walk.do("review_result", review_decision="return", review_note="未附检测报告")
    handle_to_review(walk)
    short = review_returned(walk, db_engine)
    handle_to_review(walk)
    for _ in range(6):            # the review keeps returning it: 30 more completed tasks
        walk.do("review_result", review_decision="return", review_note="未附检测报告")
        handle_to_review(walk)
    long = review_returned(walk, db_engine)
    assert len(short) <= STEP_STATEMENTS[db_engine.dialect.name], "\n".join(short)
    assert len(long) == len(short), "\n".join(short) + "\n-----\n" + "\n".join(long)


def test_registering_a_case_to_its_first_task_sends_a_bounded_number_of_statements(walk, db_engine):
    clerk = walk.user("intake_clerk", "ZZ")
    with counted(db_engine) as statements:
        outcome = submit_intake(walk.services.new_uow(), clerk, noise_request())
    walk.case_no = outcome.case_no
    assert walk.ids() == ["register"]
    assert len(statements) <= INTAKE_STATEMENTS[db_engine.dialect.name], "\n".join(statements)



def test_a_completion_and_a_registration_only_queue_their_case_for_the_rollups(walk, db_engine):
    clerk = walk.user("intake_clerk", "ZZ")
    with counted(db_engine) as intake:
        walk.case_no = submit_intake(walk.services.new_uow(), clerk, noise_request()).case_no
    walk.do("register", category=walk.summary()["category"], urgency="general",
            people_count="1", summary="夜间施工噪声")
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    step = review_returned(walk, db_engine)
    for statements in (intake, step):
        rollups = [s for s in statements if "rollup" in s]
        assert len(rollups) == 1, "\n".join(rollups)
        assert rollups[0].lstrip().startswith("INSERT INTO rollup_pending"), rollups[0]


def test_every_step_of_a_case_reads_the_case_rows_once(walk, db_engine):
    registered(walk)
    reads: dict[str, int] = {}

    def do(bpmn_id: str, dept: str | None = None, **form) -> None:
        task = walk.task(bpmn_id, dept)
        actor = walk.actor_for(task)
        with counted(db_engine) as statements:
            complete_task(walk.services.new_uow(), actor, case_no=walk.case_no,
                          task_id=task["task_id"], raw=form)
        reads[bpmn_id] = sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))

    do("sign_off", sign_off_decision="accept")          # stops the response clock
    do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    do("co_sign_off", "JD", co_sign_off_decision="accept")     # a co-department's handler
    do("co_handle", "JD", co_result="街道已协调工地", co_result_status="done")
    do("lead_consolidate", joint_result="已责令停止夜间施工", joint_outcome="resolved")
    do("submit_result", outcome="R2", result_summary="责令停止夜间施工")
    do("review_result", review_decision="return", review_note="未附检测报告")
    assert reads and all(n <= STEP_READS for n in reads.values()), reads


def test_a_step_that_opens_no_order_writes_its_rows_in_one_flush(walk, db_engine):
    """The projection, the lights, the task's record document and the instance's row go to the
    database together at the commit (each flush costs its bookkeeping however little it writes)."""
    from sqlalchemy.orm import Session

    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")  # opens JD's order
    walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
    writing: list[list[str]] = []

    def note(session, _context, _instances) -> None:
        changed = [type(row).__name__ for row in (*session.new, *session.dirty)
                   if row in session.new or session.is_modified(row)]
        if changed:
            writing.append(sorted(changed))

    task = walk.task("co_handle", "JD")
    event.listen(Session, "before_flush", note)
    try:
        complete_task(walk.services.new_uow(), walk.actor_for(task), case_no=walk.case_no,
                      task_id=task["task_id"], raw={"co_result": "街道已协调工地",
                                                    "co_result_status": "done"})
    finally:
        event.remove(Session, "before_flush", note)
    assert len(writing) == 1, writing
    assert {"CaseDocument", "InstanceRow", "OpenTask"} <= set(writing[0]), writing
