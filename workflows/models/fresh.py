"""What this transaction inserted: cases, instances and the rows that hang off a case.

A case that did not exist before this transaction has nothing elsewhere but what this
transaction wrote — no orders, clocks, watch rows or notices but its own, no audit chain, no
rollup facts — and its new instance no open tasks, so code that would read those rows takes
them from here instead (``inserted``) and asks nothing. The unit of work calls ``watch`` once
and ``forget`` after each commit or rollback. Rows are held strongly: the session's own
identity map is weak, and a flushed row nobody refers to would drop out of it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.models import InstanceRow
from workflows.models.cases import Case, WorkOrder
from workflows.models.casework import SlaClock
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla

CASES = "jiefen_fresh_cases"
INSTANCES = "jiefen_fresh_instances"
ROWS = "jiefen_fresh_rows"
TRACKED = (WorkOrder, WorkOrderSla, SupervisionNotice, SlaClock)
T = TypeVar("T")


def watch(session: Session) -> None:
    event.listen(session, "after_flush", _after_flush)


def _after_flush(session: Session, _context: object) -> None:
    for obj in session.new:
        if isinstance(obj, Case) and obj.id is not None:
            session.info.setdefault(CASES, set()).add(obj.id)
        elif isinstance(obj, InstanceRow) and obj.id is not None:
            session.info.setdefault(INSTANCES, set()).add(obj.id)
        elif isinstance(obj, TRACKED):
            session.info.setdefault(ROWS, []).append(obj)


def created_here(session: Session, case_id: int | None) -> bool:
    """True when this transaction inserted the case (flushed)."""
    return case_id is not None and case_id in session.info.get(CASES, ())


def instance_created_here(session: Session, instance_id: int | None) -> bool:
    return instance_id is not None and instance_id in session.info.get(INSTANCES, ())


def inserted(session: Session, model: type[T], case_id: int | None = None) -> list[T]:
    """The rows of ``model`` this transaction inserted and flushed (of one case if given)."""
    rows: list[Any] = session.info.get(ROWS, [])
    return [r for r in rows if isinstance(r, model)
            and (case_id is None or getattr(r, "case_id", None) == case_id)]


def forget(session: Session) -> None:
    for key in (CASES, INSTANCES, ROWS):
        session.info.pop(key, None)
