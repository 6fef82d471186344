"""What the rollups do not hold yet: the queued cases a catch-up has not applied, and the parked
ones (their apply failed: workflows/rollups/catch_up.py). For the cockpit's note and the
interface health page (which names only the parked cases in its reader's scope)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from workflows.models import Case
from workflows.models.rollups import RollupPending

SHOWN = 20     # parked cases listed on the health page


def not_counted(session: Session, *, everything: bool) -> int:
    """The queued cases whose latest change the rollups do not hold: the parked ones, and with
    ``everything`` (a reader's catch-up stopped at its bound) every queued one."""
    query = select(func.count()).select_from(RollupPending)
    if not everything:
        query = query.where(RollupPending.attempts > 0)
    return int(session.scalar(query) or 0)


def backlog(session: Session, visible: ColumnElement[bool]) -> dict[str, Any]:
    """Queued and parked cases (all of them), and the first SHOWN parked ones the reader may see
    (``visible``: a condition on Case, the reader's scope): case number, attempts, first failure,
    next try. One query, and one more when some are parked."""
    parked = RollupPending.attempts > 0
    waiting, held = session.execute(select(
        func.coalesce(func.sum(case((parked, 0), else_=1)), 0),
        func.coalesce(func.sum(case((parked, 1), else_=0)), 0))).one()
    rows = session.execute(
        select(Case.case_no, RollupPending.attempts, RollupPending.parked_at,
               RollupPending.retry_at)
        .select_from(RollupPending).join(Case, Case.id == RollupPending.case_id)
        .where(parked, visible).order_by(RollupPending.parked_at, RollupPending.case_id)
        .limit(SHOWN)).all() if held else []
    return {"waiting": int(waiting), "parked": int(held), "shown": SHOWN,
            "cases": [dict(row._mapping) for row in rows]}
