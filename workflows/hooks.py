"""Domain effects of completing particular tasks: work-order status, documents, assignments.

Which tasks have which effect is data in ``workflows.contract`` (taken from bpmn/README.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.instance import TaskView, WorkflowInstance
from workflows import contract as C
from workflows.actors import Actor
from workflows.audit import AuditAction
from workflows.documents import generate_agreement, record_from_task
from workflows.errors import InvalidInput
from workflows.models import Case, User, WorkOrder, WorkOrderStatus
from workflows.projection import DepartmentIndex, task_department


def before_complete(uow: Any, actor: Actor, case: Case, view: TaskView, clean: dict) -> None:
    """Checks that need the database (e.g. the chosen mediator exists and has the role)."""
    key = C.MEDIATOR_CHOICE.get(view.bpmn_id)
    if key and clean.get(key) not in (None, ""):
        user = _user(uow, clean[key])
        if user is None or not any(g.role.code == "mediator" for g in user.roles):
            raise InvalidInput({key: "请填写调解员的用户名"})


def after_complete(uow: Any, actor: Actor, case: Case, view: TaskView, clean: dict,
                   inst: WorkflowInstance) -> None:
    """Apply the effects of the completed task inside the same unit of work."""
    _work_order(uow, actor, case, view, clean)
    key = C.MEDIATOR_CHOICE.get(view.bpmn_id)
    if key and clean.get(key) not in (None, ""):
        user = _user(uow, clean[key])
        case.mediator_id = user.id
        inst.set_data(mediator_id=user.id)
    if view.bpmn_id in C.AGREEMENT_TASKS and C.AGREEMENT_TASKS[view.bpmn_id](clean):
        generate_agreement(uow, actor, case, {**inst.latest_data(), **clean}, task_id=view.id)
    elif view.bpmn_id in C.DOCUMENT_TASKS:
        kind, title = C.DOCUMENT_TASKS[view.bpmn_id]
        record_from_task(uow, actor, case, view, clean, kind=kind, title=title)
    if view.bpmn_id in C.SATISFACTION_TASKS:
        field = C.SATISFACTION_TASKS[view.bpmn_id]
        if clean.get(field):
            case.satisfaction = clean[field]


def _user(uow: Any, value: Any) -> User | None:
    query = select(User).where(User.username == str(value), User.active.is_(True))
    return uow.session.scalars(query).first()


def _work_order(uow: Any, actor: Actor, case: Case, view: TaskView, clean: dict) -> None:
    """Sign-off accepts or returns (退单) an order; a result task marks it done."""
    rule = C.WORK_ORDER_EFFECTS.get(view.bpmn_id)
    if rule is None:
        return
    dept = task_department(view, DepartmentIndex(uow.session))
    order = _current_order(uow, case, dept)
    if order is None:
        return
    before = order.status
    now = uow.clock.now()
    status = rule(clean)
    if status == WorkOrderStatus.ACCEPTED:
        order.status, order.accepted_at = WorkOrderStatus.ACCEPTED, now
    elif status == WorkOrderStatus.RETURNED:
        order.status = WorkOrderStatus.RETURNED
        order.return_reason = _first(clean, C.RETURN_REASON_FIELDS)
    elif status == WorkOrderStatus.DONE:
        order.status, order.completed_at = WorkOrderStatus.DONE, now
        order.result_summary = _first(clean, C.RESULT_FIELDS)
    elif status == WorkOrderStatus.IN_PROGRESS:
        order.status = WorkOrderStatus.IN_PROGRESS
    if order.status != before:
        uow.audit.record(AuditAction.WORK_ORDER_CHANGED, actor, case=case,
                         object_type="work_order", object_id=order.id,
                         department_id=order.department_id, role=order.role,
                         before=before, after=order.status, round=order.round)


def _current_order(uow: Any, case: Case, dept: int | None) -> WorkOrder | None:
    if dept is None:
        return None
    return uow.session.scalars(select(WorkOrder).where(
        WorkOrder.case_id == case.id, WorkOrder.department_id == dept)
        .order_by(WorkOrder.round.desc())).first()


def _first(clean: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        if clean.get(name):
            return str(clean[name])
    return None
