"""Which case a task id belongs to: API callers know only the task id.

The open task's case is found by the step's own read of the case
(``workflows.casework.tasks.complete_open_task``). Only a task that is no longer open is looked
for here, and only to tell "it went" (409, as any race) from "it never existed" (404).
"""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select

from engine.models import AuditEvent
from workflows.access.policy import denials_audited
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound, TaskNoLongerAvailable
from workflows.models import Case, OpenTask, WorkOrder
from workflows.runtime.unit_of_work import UnitOfWork

# how far back a cancelled task is still told from an unknown id: an API client racing a deadline
# asks within minutes; the look-up reads the payloads (about 8 kB each) of the newest engine steps
# of the window, at most CANCEL_STEPS of them, so what a stray id costs stays bounded
CANCEL_WINDOW = timedelta(days=30)
CANCEL_STEPS = 5_000
CANCELLED = "CANCELLED"   # the state name a step's transition records


def case_no_of_task(uow: UnitOfWork, actor: Actor, task_id: str) -> str:
    """The case code of an open task, or why there is none.

    A task that was open once but is no longer raises TaskNoLongerAvailable — 409, as any race —
    after the policy check on its case: completed (its ``task_completed`` event), a department's
    sign-off that its deadline cancelled (the order keeps the task's id), or any other task one
    of the newest ``CANCEL_STEPS`` engine steps of ``CANCEL_WINDOW`` cancelled (a boundary timer,
    a message, the case closing). An id no case had raises NotFound. The first two lookups have
    their own index (``ix_audit_event_task_completed``, ``ix_work_order_task_id``); the last
    reads those engine steps (``ix_audit_event_action_occurred_at``) and only ever runs for an
    id that the other two did not find.
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
            found = (ordered, "") if ordered is not None else _cancelled(uow, task_id)
            if found is None:
                raise NotFound(ErrorCode.TASK_NOT_FOUND)
            case_id, state, bpmn_id = found[0], "cancelled", found[1]
        case_no = find_case_no(uow, case_id)
    with denials_audited(uow.services, actor, object_type="task", object_id=task_id):
        with uow:
            load_case(uow, actor, case_no)
    raise TaskNoLongerAvailable(bpmn_id, state)


def _cancelled(uow: UnitOfWork, task_id: str) -> tuple[int, str] | None:
    """(case id, BPMN id) of a task that one of the recent engine steps cancelled, else None.

    Every transition of a step is in its ``engine_step`` event (keys sorted, no spaces), so the
    cancelling one reads ``"task_id":"<id>","to":"CANCELLED"``; an id that is no task id at all
    (not a canonical UUID) is not looked for."""
    if not _task_id_like(task_id):
        return None
    mark = f'"task_id":"{task_id}","to":"{CANCELLED}"'
    recent = (select(AuditEvent.id)
              .where(AuditEvent.action == AuditAction.ENGINE_STEP,
                     AuditEvent.occurred_at >= uow.clock.now() - CANCEL_WINDOW)
              .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(CANCEL_STEPS))
    row = uow.session.execute(
        select(AuditEvent.case_id, AuditEvent.payload)
        .where(AuditEvent.id.in_(recent), AuditEvent.case_id.is_not(None),
               AuditEvent.payload.contains(mark))
        .order_by(AuditEvent.id.desc()).limit(1)).first()
    if row is None:
        return None
    transitions = json.loads(row.payload).get("transitions") or []
    bpmn_id = next((t.get("task") or "" for t in transitions if t.get("task_id") == task_id), "")
    return row.case_id, bpmn_id


def _task_id_like(value: str) -> bool:
    try:
        return str(UUID(value)) == value
    except ValueError:
        return False


def find_case_no(uow: UnitOfWork, case_id: int) -> str:
    """The code of a case by id (internal: callers check the policy afterwards)."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(ErrorCode.NOT_FOUND, case_id=case_id)
    return case.case_no
