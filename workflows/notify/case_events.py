"""The case event log (``case_event``): what department feeds, the events API and the hotline's
callbacks read. Events are written in the transaction of the change they describe, so a rolled
back step leaves none, and no reader ever scans the cases.

They are observed rather than called: a ``before_flush`` listener on the unit of work's session
notes what changed — a new case, a new work order (dispatched), a work order accepted (signed
off), a light turning yellow (deadline near) or orange/red (overdue), a case's status (progress,
closed) and its rating — so every path that changes these (task forms, timers, the SLA sweep,
the rating link) yields its event without each remembering to. At commit ``append_pending``
writes them under the lock of the one ``case_event_head`` row: positions are handed out in
commit order, so a reader that has seen position N has seen every event before it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, event, inspect, select, update
from sqlalchemy.orm import Session

from workflows.core.head_append import insert_under, one_statement
from workflows.models import (
    Case,
    CaseEvent,
    CaseEventHead,
    CaseEventKind,
    CaseStatus,
    Light,
    WorkOrder,
    WorkOrderStatus,
)

PENDING = "jiefen_case_events"
OVERDUE_LIGHTS = (Light.ORANGE, Light.RED)


@dataclass
class _Noted:
    kind: str
    case: Case | None = None             # resolved at commit (a new case has no id yet)
    order: WorkOrder | None = None
    data: dict[str, Any] = field(default_factory=dict)


def watch(session: Session) -> None:
    """Note case changes on every flush of ``session`` (called once per unit of work)."""
    event.listen(session, "before_flush", _before_flush)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    noted: list[_Noted] = session.info.setdefault(PENDING, [])
    for obj in session.new:
        if isinstance(obj, Case):
            noted.append(_Noted(CaseEventKind.REGISTERED, case=obj))
        elif isinstance(obj, WorkOrder):
            noted.append(_Noted(CaseEventKind.DISPATCHED, order=obj,
                                data={"role": obj.role, "round": obj.round or 1}))
    for obj in session.dirty:
        if isinstance(obj, WorkOrder):
            noted.extend(_order_changes(obj))
        elif isinstance(obj, Case):
            noted.extend(_case_changes(obj))


def _changed(obj: object, name: str) -> tuple[Any, Any] | None:
    history = inspect(obj).attrs[name].history
    if not history.added:
        return None
    return (history.deleted[0] if history.deleted else None), history.added[0]


def _order_changes(order: WorkOrder) -> list[_Noted]:
    out = []
    status = _changed(order, "status")
    if status and status[1] == WorkOrderStatus.ACCEPTED and status[0] != status[1]:
        out.append(_Noted(CaseEventKind.SIGNED_OFF, order=order, data={"role": order.role}))
    light = _changed(order, "light")
    if light and light[0] != light[1]:
        before, after = light
        if after == Light.YELLOW and before == Light.GREEN:
            out.append(_Noted(CaseEventKind.DEADLINE_NEAR, order=order, data={"light": after}))
        elif after in OVERDUE_LIGHTS and before not in OVERDUE_LIGHTS:
            out.append(_Noted(CaseEventKind.OVERDUE, order=order, data={"light": after}))
    return out


def _case_changes(case: Case) -> list[_Noted]:
    out = []
    status = _changed(case, "status")
    if status and status[0] is not None and status[0] != status[1]:
        kind = CaseEventKind.CLOSED if status[1] == CaseStatus.CLOSED else CaseEventKind.PROGRESS
        out.append(_Noted(kind, case=case))
    rating = _changed(case, "satisfaction")
    if rating and rating[1] and rating[0] != rating[1]:
        out.append(_Noted(CaseEventKind.RATED, case=case, data={"rating": rating[1]}))
    return out


def append_pending(session: Session, now: datetime) -> int:
    """Write the noted events of this transaction (call after the last flush, before commit);
    returns how many. A case registered in this transaction reports its registration only, its
    first status being part of it; several status changes of one case make one event."""
    noted: list[_Noted] = session.info.pop(PENDING, [])
    rows = _rows(session, noted)
    count = len(rows)
    if not count:
        return 0
    if session.get_bind().dialect.name == "sqlite":
        # one INSERT: each row takes the position after the head, which its trigger then moves
        # to it (migration 0045); no head row: nothing inserted, the slower path below adds it
        inserted = session.execute(_AFTER_HEAD, _listed(rows, 0, now)).rowcount  # type: ignore[attr-defined]  # DML's
        if inserted == count:
            return count
        if inserted:   # a database without the trigger
            raise RuntimeError("the case event log's head did not follow its events")
    # the head row is moved and locked in one statement; its new position says where ours start
    moved = (update(_HEAD).where(_HEAD.c.id == 1)
             .values(last_position=_HEAD.c.last_position + count).returning(_HEAD.c.last_position))
    if one_statement(session, rows):   # with the rows' INSERT (workflows/core/head_append.py)
        head = moved.cte("head")
        inserted = session.execute(insert_under(head, _EVENTS, _listed(rows, 1, now),
                                                plus={"position": head.c.last_position - count}))
        if inserted.rowcount == count:  # type: ignore[attr-defined]  # an INSERT's CursorResult
            return count
        last = None                     # no head row: nothing was inserted
    else:
        last = session.scalar(moved)
    if last is None:   # a database made without the migration's seed row
        session.add(CaseEventHead(id=1, last_position=count))
        last = count
    session.execute(_EVENTS.insert(), _listed(rows, last - count + 1, now))
    session.flush()
    return count


# Core statements on the tables (a declarative class's __table__ is a Table)
_EVENTS = cast(Table, CaseEvent.__table__)
_HEAD = cast(Table, CaseEventHead.__table__)
# SQLite: a row at the position after the head's (its own "position" is not used)
_AFTER_HEAD = _EVENTS.insert().from_select(
    ["position", "case_id", "unit_id", "kind", "occurred_at", "data"],
    select(_HEAD.c.last_position + 1,
           *[bindparam(name, type_=_EVENTS.c[name].type)
             for name in ("case_id", "unit_id", "kind", "occurred_at", "data")])
    .where(_HEAD.c.id == 1))


def _listed(rows: list[tuple[int, int | None, str, dict]], first: int,
            now: datetime) -> list[dict[str, Any]]:
    return [{"position": first + number, "case_id": case_id, "unit_id": unit_id, "kind": kind,
             "occurred_at": now, "data": data}
            for number, (case_id, unit_id, kind, data) in enumerate(rows)]


def _rows(session: Session, noted: list[_Noted]) -> list[tuple[int, int | None, str, dict]]:
    registered = {id(n.case) for n in noted if n.kind == CaseEventKind.REGISTERED}
    out: list[tuple[int, int | None, str, dict]] = []
    last_status: dict[int, int] = {}
    for item in noted:
        if item.order is not None:
            order = item.order
            case = session.get(Case, order.case_id)
            out.append((order.case_id, order.department_id, str(item.kind), {
                **item.data, "work_order": order.id, "case_no": case.case_no if case else None}))
            continue
        case = item.case
        if case is None or case.id is None:
            continue
        if item.kind in (CaseEventKind.PROGRESS, CaseEventKind.CLOSED):
            if id(case) in registered:
                continue
            if case.id in last_status:   # one status event per case and transaction: the last
                out[last_status[case.id]] = (0, None, "", {})
            last_status[case.id] = len(out)
        data = {**item.data, "case_no": case.case_no, "status": case.status}
        if item.kind == CaseEventKind.CLOSED:
            data["outcome"] = case.outcome
        out.append((case.id, case.lead_department_id, str(item.kind), data))
    return [row for row in out if row[2]]
