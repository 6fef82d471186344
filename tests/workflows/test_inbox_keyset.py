"""The inbox's default order pages by cursor: "next" and "previous" walk every task the user may
act on exactly once, in deadline order (undated last), whatever the depth, in the same two
statements per page; the tasks of other units, other people and unseen cases never appear."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from tests.factories import department, make_user, seed
from tests.workflows import sched_support as S
from workflows.cases.inbox import InboxQuery, inbox
from workflows.cases.inbox_keyset import Cursor
from workflows.models import OpenTask

T0 = datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
_ids = itertools.count(1)


def _task(session, instance_id: int, case_id: int, *, role: str = "dept_handler",
          unit: int | None = None, assignee: int | None = None, claimed: int | None = None,
          due: datetime | None = None) -> int:
    row = OpenTask(instance_id=instance_id, case_id=case_id, task_id=f"t{next(_ids):035d}",
                   bpmn_id="handle_case", name="办理", role=role, department_id=unit,
                   assignee_id=assignee, claimed_by=claimed, due_at=due, ready_at=T0)
    session.add(row)
    session.flush()
    return row.id


@pytest.fixture
def world(services):
    """A GA handler's inbox: 23 of the unit's tasks (ties and undated among them), 3 assigned
    and 2 claimed by the handler, 2 of no unit on cases a GA order makes visible — and 15 tasks
    that are not theirs (another unit's, another person's, no unit on unseen cases)."""
    seed(services)
    S.deploy(services, "simple.bpmn")
    instance_id, _ = S.start(services)
    handler = make_user(services, "dept_handler", "GA")
    other = make_user(services, "dept_handler", "GA")
    uid, other_id = int(handler.id), int(other.id)
    mine: list[int] = []
    with services.new_uow() as uow:
        session = uow.session
        ga, jy = department(session, "GA").id, department(session, "JY").id
        uow.commit()
    visible = [S.case(services) for _ in range(3)]
    hidden = [S.case(services) for _ in range(2)]
    for case_id in visible:
        S.add_order(services, case_id, ga)
    with services.new_uow() as uow:
        s = uow.session
        for n in range(23):   # every third without a deadline, pairs sharing one
            due = None if n % 3 == 0 else T0 + timedelta(hours=n // 2)
            mine.append(_task(s, instance_id, visible[n % 3], unit=ga, due=due))
        for n in range(3):
            mine.append(_task(s, instance_id, hidden[0], unit=jy, assignee=uid,
                              due=T0 + timedelta(minutes=7 * n)))
        for n in range(2):
            mine.append(_task(s, instance_id, visible[0], unit=ga, claimed=uid,
                              due=T0 - timedelta(hours=n)))
        for n in range(2):
            mine.append(_task(s, instance_id, visible[1], due=T0 + timedelta(minutes=n)))
        for _n in range(5):
            _task(s, instance_id, visible[2], unit=ga, assignee=other_id, due=T0)
        for _n in range(4):
            _task(s, instance_id, visible[2], unit=jy, due=T0)
        for due in (T0, T0, None):                            # no unit, a case not theirs
            _task(s, instance_id, hidden[1], due=due)
        _task(s, instance_id, visible[2], unit=jy, due=None)   # another unit's, undated
        _task(s, instance_id, visible[2], unit=ga, claimed=other_id, due=T0)
        _task(s, instance_id, visible[2], role="mediator", unit=ga, due=T0)
        uow.commit()
        rows = s.scalars(select(OpenTask).where(OpenTask.id.in_(mine))).all()
    order = sorted(rows, key=lambda r: (r.due_at is None, r.due_at or T0, r.id))
    return {"handler": handler, "expected": [r.task_id for r in order]}


def _page(services, actor, **query) -> tuple[list[str], object]:
    page = inbox(services.new_uow(), actor, InboxQuery(per_page=7, **query))
    return [row["task_id"] for row in page.rows], page


def test_next_walks_every_task_once_in_deadline_order_then_previous_walks_back(services, world):
    handler, expected = world["handler"], world["expected"]
    seen, pages, after = [], [], None
    while True:
        ids, page = _page(services, handler, after=after)
        seen += ids
        pages.append(ids)
        assert page.keyset and page.total == len(expected) and page.exact
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == expected                      # 30 tasks, each once, deadline order
    assert [len(p) for p in pages] == [7, 7, 7, 7, 2]
    back, before = [], page.prev_before
    while before is not None:
        ids, page = _page(services, handler, before=before)
        back.insert(0, ids)
        before = page.prev_before
    assert back == pages[:-1]


def test_a_page_number_without_a_cursor_is_the_same_page(services, world):
    handler = world["handler"]
    second, _ = _page(services, handler, page=2)
    first, page = _page(services, handler)
    assert second == _page(services, handler, after=page.next_after)[0] == world["expected"][7:14]
    assert page.prev_before is None and first == world["expected"][:7]


def test_mine_and_group_split_the_inbox(services, world):
    handler = world["handler"]
    everything = set(world["expected"])
    mine = set(_page(services, handler, scope="mine")[0])
    group = {t for n in (1, 2, 3, 4, 5) for t in _page(services, handler, scope="group", page=n)[0]}
    assert len(mine) == 5 and mine | group == everything and not mine & group


@pytest.mark.parametrize("cursor", ["", "x", "n_", "_5", "12_ab", "9" * 30 + "_1", "1_" + "9" * 30,
                                    "-99999999999999999_1", "n_-3", "１２_3"])
def test_a_malformed_cursor_shows_the_first_page(services, world, cursor):
    assert Cursor.parse(cursor) is None
    assert _page(services, world["handler"], after=cursor)[0] == world["expected"][:7]


def test_a_cursor_reads_back_as_written():
    for due in (None, T0, T0 + timedelta(microseconds=1), datetime(1999, 12, 31, tzinfo=UTC)):
        assert Cursor.parse(Cursor(due, 42).text()) == Cursor(due, 42)


def test_a_page_costs_two_statements_whatever_its_depth(services, world, db_engine):
    handler = world["handler"]
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db_engine, "before_cursor_execute", listener)
    try:
        counts = []
        after = None
        for _ in range(4):
            statements.clear()
            _, page = _page(services, handler, after=after)
            counts.append(sum(1 for s in statements if s.lstrip().upper().startswith("SELECT")))
            after = page.next_after
    finally:
        event.remove(db_engine, "before_cursor_execute", listener)
    assert counts == [2, 2, 2, 2]
