"""The case projection, rebuilt from the workflow instance on every save.

``project_case`` runs inside the unit of work that changed the instance, so the open-task rows,
work orders and case fields commit together with the new state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import flag_modified

from engine.instance import TaskView, WorkflowInstance
from engine.xmlsafe import safe_fromstring
from workflows.audit.log import AuditAction
from workflows.core.actors import SYSTEM
from workflows.deadlines.clock_sync import sync_clocks
from workflows.deadlines.lights import refresh_lights
from workflows.district import directory_cache
from workflows.district.units import UnitResolver
from workflows.library import assignment, contract
from workflows.models import (
    Case,
    CaseStatus,
    OpenTask,
    Role,
    RoleCode,
    WorkOrder,
    WorkOrderRole,
    WorkOrderStatus,
    case_rows,
)
from workflows.models.scheduling import SupervisionNotice
from workflows.runtime.unit_of_work import UnitOfWork


def project_case(uow: UnitOfWork, case: Case, inst: WorkflowInstance) -> list[OpenTask]:
    """Rebuild the open tasks, work orders and case fields from the instance; returns new tasks."""
    session = uow.session
    data = inst.latest_data()
    depts = UnitResolver.cached(session, case.place_path)
    case_rows.orders(session, case)   # with its watch rows, notices, clocks and open tasks
    was_closed = case.status == CaseStatus.CLOSED
    ready = inst.ready_tasks()
    _case_fields(case, inst, ready, data, depts, uow.clock.now())
    if case.status == CaseStatus.CLOSED and not was_closed:
        close_open_work(uow, case)
    _work_orders(uow, case, ready, data, depts)
    created = _open_tasks(uow, case, inst, ready, depts)
    clocks = sync_clocks(uow, case, inst, ready, data)
    _order_deadlines(uow, case, inst, ready, depts, clocks.handling_due)
    refresh_lights(uow, case, changed_only=True)
    return created


# -- units and roles ------------------------------------------------------------------------
def lane_roles(session: Session) -> dict[str, str]:
    """Lane name -> role code: the roles' Chinese and English names, codes and known aliases.

    Kept per process while the directory stamp is unchanged (a role written anywhere moves it:
    workflows/district/directory_cache.py); callers must not change the mapping."""
    def read(session: Session) -> tuple[int | None, dict[str, str]]:
        rows = session.execute(select(Role.code, Role.name_zh, Role.name_en,
                                      directory_cache.stamp_column())).all()
        out = dict(contract.LANE_ALIASES)
        for code, zh, en, _stamp in rows:
            out[zh], out[en], out[code] = code, code, code
        return (rows[0][-1] if rows else None), out

    return directory_cache.cached(session, "lane roles", read)


def task_department(task: TaskView, depts: UnitResolver) -> int | None:
    """The department a task belongs to: the multi-instance item, else the task data key."""
    for key in contract.TASK_DEPARTMENT_KEYS:
        value = task.data.get(key)
        if isinstance(value, dict):
            value = value.get("code")
        ident = depts.id_of(value)
        if ident is not None:
            return ident
    return None


def task_assignee(task: TaskView, role: str | None = None) -> int | None:
    """A user the task is assigned to by the process (e.g. the chosen mediator)."""
    for key in contract.ASSIGNEE_KEYS.get(role or "", contract.ASSIGNEE_KEYS.get("*", ())):
        value = task.data.get(key)
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return int(value)
    return None


def task_facts(task: TaskView, roles: dict[str, str], depts: UnitResolver,
               case: Case | None = None) -> dict:
    """Role, department and assignee of a ready task (what the policy checks).

    A mediation task (调解员 lane) belongs to its assigned mediator (task data ``mediator_id``,
    else the case's mediator), not to the department in the task data: that is the lead
    department's, and the mediator may sit in another unit (e.g. a street committee). A task
    drawn with candidate groups, users or a unit's lane: ``workflows.library.assignment``."""
    drawn = assignment.drawn_facts(task, roles, depts)
    if drawn is not None:
        return drawn
    role = roles.get((task.lane or "").strip())
    department = task_department(task, depts) if role in contract.DEPARTMENT_ROLES else None
    assignee = task_assignee(task, role)
    if role == RoleCode.MEDIATOR:
        if assignee is None and case is not None:
            assignee = case.mediator_id
        if assignee is not None:
            department = None
    return {"role": role, "department_id": department, "assignee_id": assignee}


# -- open tasks -------------------------------------------------------------------------------------
def open_rows(session: Session, case: Case) -> dict[str, OpenTask]:
    """The open-task rows of the case's instance by task id, read with the case's other rows
    (the completion's permission check and the projection share the read)."""
    return case_rows.open_tasks(session, case)


def _open_tasks(uow: UnitOfWork, case: Case, inst: WorkflowInstance, ready: list[TaskView],
                depts: UnitResolver) -> list[OpenTask]:
    """Write only what changed: rows of tasks still ready updated where a fact moved (claims and
    ready times kept); a closed task's row taken over by a new task (one UPDATE, not a DELETE and
    an INSERT), the rest of the new tasks inserted, the rest of the closed ones deleted."""
    session = uow.session
    old = dict(open_rows(session, case))
    rows: dict[str, OpenTask] = {}
    roles = lane_roles(session)
    orders = {o.task_id: o.id for o in case.work_orders if o.task_id}
    created = []
    now = uow.clock.now()
    for task in ready:
        facts = {"case_id": case.id, "bpmn_id": task.bpmn_id, "name": task.name,
                 "lane": task.lane, **task_facts(task, roles, depts, case),
                 "work_order_id": orders.get(task.id),
                 "due_at": task_deadline(uow, case, inst, task)}
        row = old.pop(task.id, None)
        if row is None:
            created.append((task.id, facts))
            continue
        rows[task.id] = row
        for name, value in facts.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    spare = list(old.values())
    for task_id, facts in created:
        row = spare.pop() if spare else OpenTask(instance_id=case.workflow_instance_id)
        # every column a task sets: nothing of the closed task stays on a row taken over
        for name, value in {"candidate_users": None, **facts, "task_id": task_id,
                            "claimed_by": None, "ready_at": now}.items():
            setattr(row, name, value)
        if row.id is not None:
            # written even when it was NULL when read: a claim of the closed task committed since
            # must not pass to the new one
            flag_modified(row, "claimed_by")
        session.add(row)
        rows[task_id] = row
    if spare:
        session.execute(delete(OpenTask).where(OpenTask.id.in_([r.id for r in spare]))
                        .execution_options(synchronize_session=False))
        for row in spare:
            session.expunge(row)
    # no flush of its own: the lights' flush at the end of the projection writes the rows
    case_rows.rewritten(session, case, rows)
    return [rows[task_id] for task_id, _facts in created]


def task_deadline(uow: UnitOfWork, case: Case, inst: WorkflowInstance,
                  task: TaskView) -> datetime | None:
    """The task's deadline: its interrupting boundary timer, else the latest non-interrupting one
    (e.g. T-02 on first contact; the earlier ones are 75 % warnings)."""
    if task.due_at is not None:
        return task.due_at
    timers = _timer_map(uow, case).get((task.process_id, task.bpmn_id), ())
    names = {name for name, interrupting in timers if not interrupting}
    dues = [due for name, due in inst.armed_timers() if name in names]
    return max(dues) if dues else None


def _timer_map(uow: UnitOfWork, case: Case) -> dict:
    """Boundary timers of the instance's version, parsed once per compiled bundle."""
    bundle = uow.instance_bundle(case.workflow_instance_id) if case.workflow_instance_id else None
    assert bundle is not None, "only a case with an instance has ready tasks"
    return bundle.derived("boundary_timers", boundary_timer_map)


# -- case fields ------------------------------------------------------------------------------------
def _case_fields(case: Case, inst: WorkflowInstance, ready: list[TaskView], data: dict,
                 depts: UnitResolver, now: datetime) -> None:
    for attribute, key in contract.CASE_FIELDS.items():
        value = data.get(key)
        if value not in (None, ""):
            setattr(case, attribute, value)
    lead = depts.id_of(data.get(contract.LEAD_DEPARTMENT))
    if lead is not None:
        case.lead_department_id = lead
    if data.get(contract.SECOND_COMPLAINT):
        case.second_complaint = True
    mediator = data.get(contract.MEDIATOR_KEY)
    if isinstance(mediator, int) or (isinstance(mediator, str) and mediator.isdigit()):
        case.mediator_id = int(mediator)
    case.stage = "、".join(dict.fromkeys(t.name for t in ready))[:255] or None
    status = contract.status_of(inst, data, ready)
    if status == CaseStatus.CLOSED and case.status != CaseStatus.CLOSED:
        case.closed_at = now
        case.outcome = case.outcome or contract.end_outcome(inst)
    elif status != CaseStatus.CLOSED and case.status == CaseStatus.CLOSED:
        case.closed_at = None
    case.status = status


def close_open_work(uow: UnitOfWork, case: Case) -> None:
    """A closed case leaves nothing waiting: its open work orders and its unanswered 督办单 are
    closed with it (audited), so no page shows "待部门答复" for a case that is over."""
    now = uow.clock.now()
    for order in case.work_orders:
        if order.status not in _FINISHED:
            before, order.status = order.status, WorkOrderStatus.CLOSED
            order.completed_at = order.completed_at or now
            uow.audit.record(AuditAction.WORK_ORDER_CHANGED, SYSTEM, case=case,
                             object_type="work_order", object_id=order.id,
                             department_id=order.department_id, role=order.role,
                             before=before, after=order.status, round=order.round,
                             why="case_closed")
    notices = uow.session.scalars(select(SupervisionNotice).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.replied_at.is_(None),
        SupervisionNotice.reply_due_at.is_not(None), SupervisionNotice.closed_at.is_(None)))
    for notice in notices:
        notice.closed_at = now
        uow.audit.record(AuditAction.SUPERVISION_CLOSED, SYSTEM, case=case,
                         object_type="supervision_notice", object_id=notice.id,
                         why="case_closed")


# -- work orders ------------------------------------------------------------------------------------
def current_order(case: Case, dept: int | None, role: str | None = None) -> WorkOrder | None:
    """The latest order of a department on this case (optionally of one role)."""
    session = object_session(case)
    known = case_rows.orders(session, case) if session is not None else case.work_orders
    orders = [o for o in known if o.department_id == dept
              and (role is None or o.role == role)]
    return max(orders, key=lambda o: (o.round, o.id or 0), default=None)


def _work_orders(uow: UnitOfWork, case: Case, ready: list[TaskView], data: dict,
                 depts: UnitResolver) -> None:
    """A sign-off task opens an order for its department (a new round after a return or done)."""
    now = uow.clock.now()
    opened = False
    for task in ready:
        role = contract.SIGN_OFF_TASKS.get(task.bpmn_id)
        dept = task_department(task, depts)
        if role is None or dept is None:
            continue
        order = current_order(case, dept)
        if order is None or order.status in (WorkOrderStatus.DONE,) or (
                order.status == WorkOrderStatus.RETURNED and role == "lead"):
            rounds = [o.round for o in case.work_orders if o.department_id == dept]
            # watched from its INSERT: this projection ends with refresh_lights, which creates the
            # order's watch row in the same transaction (a later flag would cost an UPDATE per order)
            order = WorkOrder(case_id=case.id, department_id=dept, round=max(rounds, default=0) + 1,
                              role=role, status=WorkOrderStatus.DISPATCHED, dispatched_at=now,
                              sla_watched=True)
            uow.session.add(order)
            case.work_orders.append(order)
            opened = True
        order.task_id = task.id
        order.due_at = task.due_at or order.due_at
    # a new order's id names it on its task's row; anything else waits for the commit's flush
    # (a flush costs its bookkeeping however little it writes)
    if opened:
        uow.session.flush()


def _order_deadlines(uow: UnitOfWork, case: Case, inst: WorkflowInstance, ready: list[TaskView],
                     depts: UnitResolver, handling_due: datetime | None) -> None:
    """An open order's deadline is its current step's: the earliest deadline of its department's
    ready tasks (sign-off, first contact, co-handling …) and, for the lead, the running handling
    deadline. A finished order keeps the deadline it was measured against (reports)."""
    roles = lane_roles(uow.session)
    steps = [task for task in ready if roles.get((task.lane or "").strip()) in contract.DEPARTMENT_ROLES]
    for order in case.work_orders:
        if order.status in _FINISHED:
            continue
        dues = [task_deadline(uow, case, inst, task) for task in steps
                if task_department(task, depts) == order.department_id]
        if order.role == WorkOrderRole.LEAD and order.status != WorkOrderStatus.DISPATCHED:
            dues.append(handling_due)
        known = [due for due in dues if due is not None]
        if known:
            order.due_at = min(known)
        elif order.status != WorkOrderStatus.DISPATCHED and _is_sign_off_due(uow, case, order):
            order.due_at = None   # signed off: the sign-off deadline no longer speaks


_FINISHED = (WorkOrderStatus.DONE, WorkOrderStatus.REFUSED, WorkOrderStatus.RETURNED,
             WorkOrderStatus.CLOSED)


def _is_sign_off_due(uow: UnitOfWork, case: Case, order: WorkOrder) -> bool:
    watch = case_rows.watches(uow.session, case).get(order.id) if order.id is not None else None
    return watch is not None and watch.response_due_at == order.due_at


# -- deadlines from the BPMN source (timer boundary events attached to a task) ----------------
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def boundary_timer_map(files: dict[str, str]) -> dict[tuple[str, str], tuple]:
    """(process id, task id) -> ((timer name, interrupting), ...) for every timer boundary event."""
    out: dict[tuple[str, str], list] = {}
    for name, text in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        root = safe_fromstring(text.encode("utf-8") if isinstance(text, str) else text, name)
        for process in root.iter(f"{BPMN}process"):
            for event in process.iter(f"{BPMN}boundaryEvent"):
                if event.find(f"{BPMN}timerEventDefinition") is None:
                    continue
                key = (process.get("id"), event.get("attachedToRef"))
                out.setdefault(key, []).append((event.get("name") or event.get("id"),
                                                event.get("cancelActivity", "true") != "false"))
    return {key: tuple(value) for key, value in out.items()}
