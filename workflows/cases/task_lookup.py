"""Which case a task id belongs to: API callers know only the task id.

The open task's case is one statement in the request's reads (the step itself then checks the
policy). Only a task that is no longer open is looked for further, and only to tell "it went"
(409, as any race) from "it never existed" (404).
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from workflows.access.policy import denials_audited
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound, TaskNoLongerAvailable
from workflows.models import Case, OpenTask, WorkOrder
from workflows.runtime.unit_of_work import UnitOfWork


def open_task_case_no(session: Session, task_id: str) -> str | None:
    """The case code of the open task with this id, or None (one statement, nothing checked)."""
    return session.scalar(select(Case.case_no).join(OpenTask, OpenTask.case_id == Case.id)
                          .where(OpenTask.task_id == task_id).limit(1))


def case_no_of_task(uow: UnitOfWork, actor: Actor, task_id: str) -> str:
    """The case code of an open task (API callers know only the task id).

    A task that was open once but is completed now, or a department's sign-off that its deadline
    cancelled (the order keeps the task's id), raises TaskNoLongerAvailable — 409, as any race —
    after the policy check on its case; an unknown id raises NotFound. Both lookups have their
    own index (``ix_audit_event_task_completed``, ``ix_work_order_task_id``).
    """
    with uow:
        row = uow.session.scalars(select(OpenTask).where(OpenTask.task_id == task_id)).first()
        if row is not None:
            return find_case_no(uow, row.case_id)
        done = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "task", AuditEvent.object_id == task_id,
            AuditEvent.action == "task_completed")).first()
        if done is not None and done.case_id is not None:
            case_id, state = done.case_id, "completed"
            bpmn_id = json.loads(done.payload or "{}").get("bpmn_id", "")
        else:
            ordered = uow.session.scalar(select(WorkOrder.case_id).where(
                WorkOrder.task_id == task_id).limit(1))
            if ordered is None:
                raise NotFound(ErrorCode.TASK_NOT_FOUND)
            case_id, state, bpmn_id = ordered, "cancelled", ""
        case_no = find_case_no(uow, case_id)
    with denials_audited(uow.services, actor, object_type="task", object_id=task_id):
        with uow:
            load_case(uow, actor, case_no)
    raise TaskNoLongerAvailable(bpmn_id, state)


def find_case_no(uow: UnitOfWork, case_id: int) -> str:
    """The code of a case by id (internal: callers check the policy afterwards)."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(ErrorCode.NOT_FOUND, case_id=case_id)
    return case.case_no
