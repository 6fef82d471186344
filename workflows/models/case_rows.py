"""A case's working rows, read in one statement and then known until the transaction ends.

A step needs the case's work orders with their response-limit watch rows (work_order_sla) and
level-1 督办单 (the projection, the lights), its SLA clocks (clock sync) and its instance's
open-task rows (the completion's permission check, the projection). The first of them asked
for reads them all in one statement; afterwards the rows this transaction adds (``fresh``) are
added to what was read and deleted ones dropped, so nothing reads them again before the commit.
A case inserted in this transaction has nothing but what it wrote and is not read at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Select, and_, bindparam, event, inspect, literal_column, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from workflows.models import fresh
from workflows.models.cases import Case, WorkOrder
from workflows.models.casework import OpenTask, SlaClock
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla

T = TypeVar("T")
READ = "jiefen_case_rows_read"


@dataclass
class _Read:
    rows: list[Any]                           # watch rows, level-1 notices and clocks read
    instance_id: int | None                   # whose open-task rows ``open`` holds
    open: dict[str, OpenTask] = field(default_factory=dict)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # another transaction may change them; a savepoint rolled back may take rows added since
    if transaction.parent is None or transaction.nested:
        session.info.pop(READ, None)


def _known(session: Session) -> dict[int, _Read]:
    return session.info.setdefault(READ, {})


def orders(session: Session, case: Case) -> list[WorkOrder]:
    """The case's work orders (id order), read with the rest the first time."""
    _ensure(session, case)
    return case.work_orders


def watches(session: Session, case: Case) -> dict[int, WorkOrderSla]:
    """The case's response-limit watch rows by work order id."""
    return {w.work_order_id: w for w in _rows(session, case, WorkOrderSla)}


def notices(session: Session, case: Case) -> dict[int, list[SupervisionNotice]]:
    """The case's level-1 督办单 by work order id, oldest first."""
    out: dict[int, list[SupervisionNotice]] = {}
    found = [n for n in _rows(session, case, SupervisionNotice) if n.level == 1]
    for notice in sorted(found, key=lambda n: n.id or 0):
        if notice.work_order_id is not None:
            out.setdefault(notice.work_order_id, []).append(notice)
    return out


def clocks(session: Session, case: Case) -> dict[str, SlaClock]:
    """The case's SLA clocks by kind."""
    return {c.kind: c for c in _rows(session, case, SlaClock)}


def open_tasks(session: Session, case: Case) -> dict[str, OpenTask]:
    """The open-task rows of the case's instance by task id (an instance started in this
    transaction has none until its projection writes them)."""
    read = _ensure(session, case)
    if read.instance_id != case.workflow_instance_id:   # the case moved to another instance
        if fresh.instance_created_here(session, case.workflow_instance_id):
            read.instance_id, read.open = case.workflow_instance_id, {}
        else:
            read = _read(session, case)
    return read.open


def rewritten(session: Session, case: Case, rows: dict[str, OpenTask]) -> None:
    """The projection wrote the instance's open-task rows: these are all of them now."""
    read = _ensure(session, case)
    read.instance_id, read.open = case.workflow_instance_id, dict(rows)


def known(session: Session, case: Case) -> bool:
    """True when the case's rows are known to this transaction (read, or all inserted here)."""
    return case.id in _known(session) or fresh.created_here(session, case.id)


def _rows(session: Session, case: Case, model: type[T]) -> list[T]:
    read = _ensure(session, case)
    pending = [r for r in session.new if isinstance(r, model)
               and getattr(r, "case_id", None) == case.id]
    out: dict[int, T] = {}
    for row in (*read.rows, *fresh.inserted(session, model, case.id), *pending):
        if isinstance(row, model) and not (inspect(row).deleted or inspect(row).was_deleted):
            out.setdefault(id(row), row)
    return list(out.values())


def _ensure(session: Session, case: Case) -> _Read:
    read = _known(session).get(case.id)
    if read is not None:
        return read
    if fresh.created_here(session, case.id):
        # everything it has was inserted here, its instance too: nothing to read
        if "work_orders" in inspect(case).unloaded:
            set_committed_value(case, "work_orders", sorted(
                fresh.inserted(session, WorkOrder, case.id), key=lambda o: o.id))
        return _keep(session, case, [], {})
    return _read(session, case)


def _keep(session: Session, case: Case, rows: list, open_rows: dict[str, OpenTask]) -> _Read:
    read = _Read(rows, case.workflow_instance_id, open_rows)
    _known(session)[case.id] = read
    return read


def _read(session: Session, case: Case) -> _Read:
    """One statement: three parts side by side, so no part multiplies another's rows — the orders
    with their watch row and level-1 notices, the clocks, the instance's open tasks."""
    rows = session.execute(_statement(), {"case_id": case.id,
                                          "instance_id": case.workflow_instance_id})
    found: dict[int, Any] = {}      # by identity: the identity map hands back the same objects
    order_list: dict[int, WorkOrder] = {}
    open_rows: dict[str, OpenTask] = {}
    for order, watch, notice, clock, task in rows:
        if order is not None:
            order_list[id(order)] = order
        for row in (watch, notice, clock):
            if row is not None:
                found[id(row)] = row
        if task is not None:
            open_rows[task.task_id] = task
    if "work_orders" in inspect(case).unloaded:
        set_committed_value(case, "work_orders", list(order_list.values()))
    return _keep(session, case, list(found.values()), open_rows)


@lru_cache(maxsize=1)
def _statement() -> Select:
    # built once, the case and instance bound at execution: building it cost a third of the read
    case_id = bindparam("case_id", type_=WorkOrder.case_id.type)
    instance_id = bindparam("instance_id", type_=OpenTask.instance_id.type)
    parts = union_all(*(select(literal_column(str(n)).label("part")) for n in (1, 2, 3))) \
        .subquery("parts")
    return (
        select(WorkOrder, WorkOrderSla, SupervisionNotice, SlaClock, OpenTask)
        .select_from(parts)
        .outerjoin(WorkOrder, and_(parts.c.part == 1, WorkOrder.case_id == case_id))
        .outerjoin(WorkOrderSla, WorkOrderSla.work_order_id == WorkOrder.id)
        .outerjoin(SupervisionNotice, and_(SupervisionNotice.case_id == case_id,
                                           SupervisionNotice.work_order_id == WorkOrder.id,
                                           SupervisionNotice.level == 1))
        .outerjoin(SlaClock, and_(parts.c.part == 2, SlaClock.case_id == case_id))
        .outerjoin(OpenTask, and_(parts.c.part == 3, OpenTask.instance_id == instance_id))
        .order_by(parts.c.part, WorkOrder.id, SupervisionNotice.id))
