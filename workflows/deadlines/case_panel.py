"""The case page's 时限 panel and its actions: every running deadline of a case (the process's
timers and the SLA clocks) and suspension (中止) / extension (延期) requests, decided by a
supervisor who is not the requester (docs/scheduler.md).

Reading needs the case page's access; requesting is for the lead department's handlers and the
assigned mediator; deciding for supervisors and leaders. Every refusal is audited
(``access_denied``); requests, decisions and clock changes are audited by ``workflows.deadlines.sla``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.instance import WorkflowInstance
from engine.models import InstanceRow
from workflows.access.policy import (
    Denied,
    Permission,
    case_access,
    denials_audited,
    require,
    user_id,
)
from workflows.cases.inbox import timeliness
from workflows.cases.lookup import load_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.deadlines import sla
from workflows.deadlines.escalation import MANUAL, calendar_of, escalate
from workflows.deadlines.legal_windows import legal_window
from workflows.deadlines.lights import CLOSED as FINISHED_ORDERS
from workflows.deadlines.lights import make_limit, order_limits
from workflows.models import (
    Case,
    CaseStatus,
    Department,
    OpenTask,
    RoleCode,
    SlaClock,
    User,
    WorkOrder,
)
from workflows.models.scheduling import (
    RequestKind,
    RequestStatus,
    SlaRequest,
    SupervisionNotice,
    WorkOrderSla,
)
from workflows.runtime.unit_of_work import UnitOfWork

# extension units offered on the form -> deadline spec (the calculator's forms)
EXTENSION_UNITS = {"working_days": "working_days({n})", "statutory_days": "statutory_days({n})",
                   "hours": "PT{n}H"}
MAX_EXTENSION = 90


# -- reading -------------------------------------------------------------------------------------
def read_instance(uow: UnitOfWork, case: Case) -> WorkflowInstance | None:
    """The case's instance for reading only: not tracked, so a page that commits (e.g. the
    ``party_viewed`` event) never writes the instance row."""
    row = uow.session.get(InstanceRow, case.workflow_instance_id) \
        if case.workflow_instance_id else None
    if row is None:
        return None
    uow.bundle(row.process_version_id)  # the spec cache, read through this session
    return WorkflowInstance.load(row.state, uow.services.serializer)


def deadline_panel(uow: UnitOfWork, actor: Actor, case: Case,
                   inst: WorkflowInstance | None) -> dict:
    """Running deadlines (earliest first), clock requests and 督办单 of a case, with what the
    actor may do about them. Called inside the case page's unit of work (access checked)."""
    now = uow.clock.now()
    rows = _process_rows(uow, case, inst, now) if inst is not None else []
    clocks = uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id)
                                 .order_by(SlaClock.id)).all()
    requests = uow.session.scalars(select(SlaRequest).where(SlaRequest.case_id == case.id)
                                   .order_by(SlaRequest.id)).all()
    extended = {r.clock_id for r in requests
                if r.kind == RequestKind.EXTEND and r.status == RequestStatus.APPROVED}
    pending = {r.clock_id for r in requests if r.status == RequestStatus.PENDING}
    handler = may_request(actor, case)
    rows += [_clock_row(uow, clock, now, clock.id in extended,
                        handler and clock.id not in pending and clock.paused_at is None)
             for clock in clocks if clock.stopped_at is None]
    rows.sort(key=lambda r: r["due_at"])
    names = _names(uow, [*(r.requested_by for r in requests), *(r.decided_by for r in requests)])
    kinds = {c.id: c.kind for c in clocks}
    paused = {c.id for c in clocks if c.paused_at is not None}
    # reasons are free text: shown only to those who may read the case's free text
    texts = case_access(uow.session, actor, case).free_text
    return {"rows": rows,
            "requests": [_request_row(r, kinds, names, actor, handler, r.clock_id in paused,
                                      texts) for r in reversed(requests)],
            "notices": notices(uow.session, actor, case, texts=texts),
            "can_issue": actor.has(RoleCode.SUPERVISOR) and case.status != CaseStatus.CLOSED,
            "issue_units": [(code, name) for _, code, name, _ in
                            notice_units(uow.session, case)]
            if actor.has(RoleCode.SUPERVISOR) else [],
            "can_request": handler and any(r["can_request"] for r in rows),
            "units": list(EXTENSION_UNITS)}


def _process_rows(uow: UnitOfWork, case: Case, inst: WorkflowInstance, now: datetime) -> list[dict]:
    """The BPMN timers: those of each open task, then the other armed ones (e.g. 办理时限)."""
    arrived = {row.task_id: (row.ready_at, row.due_at) for row in uow.session.scalars(
        select(OpenTask).where(OpenTask.case_id == case.id))}
    stored = order_lights(uow.session, case)
    rows, seen = [], set()
    tz = calendar_of(uow).tz
    for task in inst.ready_tasks():
        ready_at, deadline = arrived.get(task.id, (None, None))
        for timer in task.timers:
            seen.add((timer.name, timer.due_at))
            is_deadline = timer.interrupting or timer.due_at == deadline
            # a step's deadline is its work order's: the light the order table shows
            rows.append(_row("process", timer.name, timer.due_at,
                             timeliness(ready_at, timer.due_at, now,
                                        stored.get(task.id) if is_deadline else None),
                             task=task.name, deadline=is_deadline,
                             legal=legal_window(timer, task.data, tz)))
    for name, due in inst.armed_timers():
        if (name, due) not in seen:
            seen.add((name, due))
            rows.append(_row("process", name, due, "orange" if now >= due else "green"))
    return rows


def order_lights(session: Session, case: Case) -> dict[str, str | None]:
    """The light the SLA sweep stored on each open work order, by the order's current step."""
    rows = session.execute(select(WorkOrder.task_id, WorkOrder.light).where(
        WorkOrder.case_id == case.id, WorkOrder.task_id.is_not(None),
        WorkOrder.status.not_in(FINISHED_ORDERS)))
    return {str(row.task_id): row.light for row in rows}


def _row(source: str, name: str | None, due: datetime, light: str | None, *,
         task: str | None = None, deadline: bool = True, **extra: Any) -> dict:
    return {"source": source, "name": name, "task": task, "due_at": due, "light": light,
            "deadline": deadline, "state": "running", "kind": None, "clock_id": None,
            "can_request": False, "legal": None, **extra}


def _clock_row(uow: UnitOfWork, clock: SlaClock, now: datetime, extended: bool,
               can_request: bool) -> dict:
    state = "paused" if clock.paused_at is not None else "running"
    return _row("clock", clock.kind, clock.due_at, clock_light(uow, clock, now), state=state,
                kind=clock.kind, clock_id=clock.id, extended=extended, policy=clock.policy,
                started_at=clock.started_at, paused_at=clock.paused_at,
                can_request=can_request)


def clock_light(uow: UnitOfWork, clock: SlaClock, now: datetime) -> str:
    """green, yellow (warning passed), orange (breached), red (> 3 working days overdue)."""
    limit = make_limit(calendar_of(uow), clock.kind, clock.started_at, clock.due_at, None,
                       warn=clock.warn_at)
    moment = clock.paused_at or now  # a suspended clock does not age
    if moment >= limit.red:
        return "red"
    if moment >= clock.due_at:
        return "orange"
    return "yellow" if limit.warn and moment >= limit.warn else "green"


def _request_row(request: SlaRequest, kinds: dict, names: dict, actor: Actor, handler: bool,
                 paused: bool, texts: bool) -> dict:
    pending = request.status == RequestStatus.PENDING
    active_suspension = (request.kind == RequestKind.SUSPEND and paused
                         and request.status == RequestStatus.APPROVED)
    return {"id": request.id, "kind": request.kind, "clock": kinds.get(request.clock_id),
            "reason": request.reason if texts else None, "extension": request.extension,
            "status": request.status,
            "requested_by": names.get(request.requested_by, request.requested_by),
            "requested_at": request.requested_at,
            "decided_by": names.get(request.decided_by or "", request.decided_by),
            "decided_at": request.decided_at, "note": request.decision_note if texts else None,
            "can_decide": pending and may_decide(actor)
            and request.requested_by != str(actor.id),
            "can_end": active_suspension and (handler or may_decide(actor))}


def _names(uow: UnitOfWork, ids: Iterable[str | None]) -> dict[str, str]:
    numbers = {int(i) for i in ids if i and str(i).isdigit()}
    if not numbers:
        return {}
    rows = uow.session.execute(select(User.id, User.display_name, User.username)
                               .where(User.id.in_(numbers)))
    return {str(uid): name or username for uid, name, username in rows}


def notices(session: Session, actor: Actor, case: Case, *, texts: bool = True) -> list[dict]:
    """The case's 督办单 (L1) with the reply state; the addressed department may reply (and
    reads its own reply; other free text only with ``texts``)."""
    rows = session.execute(select(SupervisionNotice, Department.name)
                           .outerjoin(Department, Department.id == SupervisionNotice.department_id)
                           .where(SupervisionNotice.case_id == case.id,
                                  SupervisionNotice.level == 1)
                           .order_by(SupervisionNotice.issued_at.desc())).all()
    return [{"id": n.id, "issued_at": n.issued_at, "department": name, "reason": n.reason,
             "reply_due_at": n.reply_due_at, "replied_at": n.replied_at,
             "closed_at": n.closed_at,
             "reply": n.reply_note if texts or n.department_id == actor.department_id else None,
             "can_reply": n.replied_at is None and n.closed_at is None and may_reply(actor, n)}
            for n, name in rows]


# -- who may do what -----------------------------------------------------------------------------
def may_request(actor: Actor, case: Case) -> bool:
    """The lead department's handlers and the assigned mediator ask for 中止 / 延期."""
    lead = actor.has(RoleCode.DEPT_HANDLER) and case.lead_department_id is not None \
        and case.lead_department_id == actor.department_id
    mediator = actor.has(RoleCode.MEDIATOR) and case.mediator_id is not None \
        and case.mediator_id == user_id(actor)
    return lead or mediator


def may_decide(actor: Actor) -> bool:
    """Supervisors and leaders decide (never on their own request)."""
    return actor.has(*sla.APPROVERS)


def issue_notice(uow: UnitOfWork, actor: Actor, *, case_no: str, level: str, reason: str,
                 unit: str = "") -> bool:
    """A supervisor's 催办 (``level`` "0") or 督办单 ("1") by hand on a case in their scope, to the
    lead unit or the unit of one of its work orders (``unit``: its code); delivered like the
    ladder's notices (a 督办单 asks for a written reply within a working day) and audited
    ``supervision_issued`` with source ``manual``. False when the same notice was already sent
    this minute (a double click)."""
    pii_text.refuse(reason=reason)
    with denials_audited(uow.services, actor, object_type="supervision_notice"), uow:
        case = load_case(uow, actor, case_no)
        require(actor, Permission.ISSUE_NOTICE, case)
        errors: dict[str, FieldError] = {}
        if level not in ("0", "1"):
            errors["level"] = FieldError(FieldCode.NOT_AN_OPTION)
        if not reason.strip():
            errors["reason"] = FieldError(ErrorCode.NOTICE_REASON_REQUIRED)
        if case.status == CaseStatus.CLOSED:
            errors["level"] = FieldError(ErrorCode.NOTICE_CASE_CLOSED)
        targets = notice_units(uow.session, case)
        chosen = next((t for t in targets if t[1] == unit), targets[0] if targets and not unit
                      else None)
        if chosen is None:
            errors["unit"] = FieldError(ErrorCode.NOTICE_DEPARTMENT_UNKNOWN)
        if errors:
            raise InvalidInput(errors)
        assert chosen is not None
        department_id, _code, _name, order = chosen
        now = uow.clock.now()
        key = f"esc:{case.id}:{MANUAL}:{actor.id}:{department_id}:{now:%Y%m%d%H%M}:L{level}"
        notice = escalate(uow, case, level=int(level), source=MANUAL, reason=reason.strip(),
                          limit_due=passed_due(uow, case, department_id, order, now),
                          work_order=order, department_id=department_id, actor=actor, key=key)
        uow.commit()
        return notice is not None


def passed_due(uow: UnitOfWork, case: Case, department_id: int, order: WorkOrder | None,
               now: datetime) -> datetime | None:
    """The earliest due time a notice's unit has let pass by ``now`` (what a notice by hand
    records as its limit): its work order's sign-off or handling limit, its open steps'
    deadlines and, for the lead unit, the case's running SLA clocks; None when none has."""
    dues: list[datetime] = []
    if order is not None:
        watch = uow.session.get(WorkOrderSla, order.id)
        if watch is not None:
            dues += [lim.due for lim in order_limits(uow, order, watch) if lim.open()]
        elif order.due_at is not None and order.completed_at is None:
            dues.append(order.due_at)
    dues += [due for due in uow.session.scalars(select(OpenTask.due_at).where(
        OpenTask.case_id == case.id, OpenTask.department_id == department_id)) if due]
    if department_id == case.lead_department_id:
        dues += [c.due_at for c in uow.session.scalars(select(SlaClock).where(
            SlaClock.case_id == case.id, SlaClock.stopped_at.is_(None),
            SlaClock.paused_at.is_(None)))]
    return min((due for due in dues if due <= now), default=None)


def notice_units(session: Session, case: Case) -> list[tuple[int, str, str, WorkOrder | None]]:
    """Whom a notice by hand may go to: the lead unit, then the units of the case's open work
    orders, as (department id, code, name, that unit's open order)."""
    open_orders = [o for o in case.work_orders if o.status not in FINISHED_ORDERS]
    ids = [i for i in dict.fromkeys([case.lead_department_id,
                                     *(o.department_id for o in open_orders)]) if i]
    names = {d.id: (d.code, d.name) for d in session.scalars(
        select(Department).where(Department.id.in_(ids)))} if ids else {}
    out = []
    for ident in ids:
        order = max((o for o in open_orders if o.department_id == ident),
                    key=lambda o: (o.round, o.id or 0), default=None)
        code, name = names.get(ident, ("", ""))
        out.append((ident, code, name, order))
    return out


def may_reply(actor: Actor, notice: SupervisionNotice) -> bool:
    """A 督办单 is answered by a handler of the department it was sent to."""
    return actor.has(RoleCode.DEPT_HANDLER) and notice.department_id is not None \
        and notice.department_id == actor.department_id


# -- actions -------------------------------------------------------------------------------------
def request_clock_change(uow: UnitOfWork, actor: Actor, *, case_no: str, kind: str,
                         request_kind: str, reason: str, amount: str = "", unit: str = "") -> int:
    """Ask for a suspension or an extension of one running clock; returns the request id."""
    pii_text.refuse(reason=reason)
    with denials_audited(uow.services, actor, object_type="sla_clock", object_id=kind), uow:
        case = load_case(uow, actor, case_no)
        require(actor, Permission.REQUEST_SLA_CHANGE, case)
        if not may_request(actor, case):
            raise Denied(ErrorCode.SLA_REQUEST_HANDLER, "sla_request.not_handler",
                         case_id=case.id, object_type="sla_clock", object_id=kind)
        clock = _running_clock(uow, case, kind)
        if _pending(uow, clock):
            raise InvalidInput({"request_kind": FieldError(ErrorCode.REQUEST_PENDING)})
        extension = extension_spec(amount, unit) if request_kind == RequestKind.EXTEND else None
        request = sla.request_change(uow, actor, case, kind, request_kind=request_kind,
                                     reason=reason, extension=extension)
        uow.commit()
        return request.id


def decide_clock_request(uow: UnitOfWork, actor: Actor, *, case_no: str, request_id: int | str,
                         approve: bool, note: str = "") -> None:
    """Approve or refuse a pending request (four eyes: not the requester)."""
    pii_text.refuse(note=note)
    with denials_audited(uow.services, actor, object_type="sla_request",
                         object_id=request_id), uow:
        case = load_case(uow, actor, case_no)
        require(actor, Permission.DECIDE_SLA_CHANGE, case)
        request = _request(uow, case, request_id)
        if request.requested_by == str(actor.id):
            raise Denied(ErrorCode.FOUR_EYES, "sla_decide.four_eyes", case_id=case.id,
                         object_type="sla_request", object_id=request_id)
        sla.decide_request(uow, actor, request.id, approve=approve, note=note[:500])
        uow.commit()


def end_clock_suspension(uow: UnitOfWork, actor: Actor, *, case_no: str,
                         request_id: int | str) -> None:
    """The reason for a suspension has gone: the clock runs again (handler or supervisor)."""
    with denials_audited(uow.services, actor, object_type="sla_request",
                         object_id=request_id), uow:
        case = load_case(uow, actor, case_no)
        if not (may_request(actor, case) or may_decide(actor)):
            raise Denied(ErrorCode.SLA_RESUME, "sla_resume.role", case_id=case.id,
                         object_type="sla_request", object_id=request_id)
        sla.end_suspension(uow, actor, _request(uow, case, request_id).id)
        uow.commit()


def extension_spec(amount: str, unit: str) -> str:
    """The deadline spec of an extension typed as a number and a unit (e.g. 15 working days)."""
    text = str(amount or "").strip()
    if unit not in EXTENSION_UNITS:
        raise InvalidInput({"extension": FieldError(ErrorCode.CHOOSE_EXTENSION_UNIT)})
    if not text.isdigit() or not 1 <= int(text) <= MAX_EXTENSION:
        raise InvalidInput({"extension": FieldError(
            ErrorCode.EXTENSION_COUNT, {"limit": MAX_EXTENSION})})
    return EXTENSION_UNITS[unit].format(n=int(text))


def _running_clock(uow: UnitOfWork, case: Case, kind: str) -> SlaClock:
    clock = uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id,
                                                       SlaClock.kind == kind)).first()
    if clock is None or clock.stopped_at is not None:
        raise NotFound(ErrorCode.CLOCK_NOT_RUNNING, case_no=case.case_no, kind=kind)
    return clock


def _pending(uow: UnitOfWork, clock: SlaClock) -> bool:
    return uow.session.scalar(select(SlaRequest.id).where(
        SlaRequest.clock_id == clock.id, SlaRequest.status == RequestStatus.PENDING)) is not None


def _request(uow: UnitOfWork, case: Case, request_id: int | str) -> SlaRequest:
    """The case's request (a number from a form is checked only after the policy)."""
    text = str(request_id)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):  # within a 64-bit id
        raise NotFound(ErrorCode.REQUEST_NOT_FOUND, request_id=text[:20])
    request = uow.session.get(SlaRequest, int(text))
    if request is None or request.case_id != case.id:
        raise NotFound(ErrorCode.REQUEST_NOT_FOUND, request_id=request_id)
    return request
