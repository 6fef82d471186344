"""Read models for the pages: case detail and the guided task view (no Flask).

The inbox is ``workflows.inbox.inbox``; the full history is ``workflows.timeline.case_history``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.errors import TaskNotFound, TaskNotReady
from engine.models import AuditEvent, InstanceRow, ProcessVersion
from workflows.actors import Actor
from workflows.audit import AuditAction
from workflows.cases import case_summary, decrypt_narrative, load_case
from workflows.documents import list_documents
from workflows.errors import NotFound, TaskNoLongerAvailable
from workflows.instructions import render_instructions
from workflows.models import Case, Department, OpenTask, WorkOrder
from workflows.nextsteps import next_steps
from workflows.parties import PartyVault, case_parties
from workflows.policy import (
    Denied,
    case_access,
    denials_audited,
    require_task,
)
from workflows.projection import DepartmentIndex, lane_roles, task_facts

ENGINE_EVENTS = {AuditAction.TASK_STATE_CHANGED}


# -- case detail ----------------------------------------------------------------------------------
def case_detail(uow: Any, actor: Actor, case_no: str, *, engine_events: bool = False) -> dict:
    """Everything the case page shows, scoped and masked for this actor."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no):
        with uow:
            case = load_case(uow, actor, case_no)
            access = case_access(uow.session, actor, case)
            detail = case_summary(uow.session, case)
            detail["access"] = {"parties": access.parties, "unmask": access.unmask,
                                "co_department_only": access.co_only}
            detail["parties"] = _parties(uow, actor, case) if access.parties else []
            show_narrative = access.parties and not access.co_only
            detail["narrative"] = decrypt_narrative(uow.services, case) if show_narrative \
                else None
            detail["work_orders"] = work_orders(uow.session, case)
            detail["documents"] = list_documents(uow.session, case)
            detail["timeline"] = timeline(uow.session, case, engine_events=engine_events)
            detail["diagram"] = _diagram(uow, case)
            if access.parties:
                uow.commit()  # the party_viewed access event (R-VIEW-1)
            return detail


def _parties(uow: Any, actor: Actor, case: Case) -> list[dict]:
    rows = case_parties(uow.session, case)
    uow.audit.record(AuditAction.PARTY_VIEWED, actor, case=case, object_type="case",
                     object_id=case.case_no, parties=[p.id for _, p in rows], masked=True,
                     ip=actor.ip, session_hash=actor.session_hash)
    return [PartyVault.view(party, link.role) for link, party in rows]


def work_orders(session: Any, case: Case) -> list[dict]:
    """Work orders per department and round, lead first."""
    rows = session.execute(select(WorkOrder, Department).join(
        Department, Department.id == WorkOrder.department_id).where(WorkOrder.case_id == case.id)
        .order_by(WorkOrder.round, WorkOrder.role.desc(), WorkOrder.id))
    return [{"id": o.id, "department": {"code": d.code, "name": d.name}, "role": o.role,
             "round": o.round, "status": o.status, "light": o.light,
             "dispatched_at": _iso(o.dispatched_at), "accepted_at": _iso(o.accepted_at),
             "due_at": _iso(o.due_at), "completed_at": _iso(o.completed_at),
             "result_summary": o.result_summary, "return_reason": o.return_reason}
            for o, d in rows]


def timeline(session: Any, case: Case, *, engine_events: bool = False) -> list[dict]:
    """The case's audit chain in order (personal-data free by construction)."""
    query = select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}")
    if not engine_events:
        query = query.where(AuditEvent.action.not_in([str(a) for a in ENGINE_EVENTS]))
    return [{"seq": e.seq, "at": _iso(e.occurred_at), "action": e.action,
             "actor_type": e.actor_type, "actor_id": e.actor_id, "actor_role": e.actor_role,
             "object_type": e.object_type, "object_id": e.object_id, "payload": e.payload}
            for e in session.scalars(query.order_by(AuditEvent.seq))]


def _diagram(uow: Any, case: Case) -> dict | None:
    if case.workflow_instance_id is None:
        return None
    row = uow.session.get(InstanceRow, case.workflow_instance_id)
    inst = uow.load_instance(case.workflow_instance_id)
    return {"process_version_id": row.process_version_id, "process_id": row.process_id,
            "element_states": inst.element_states()}


# -- task view --------------------------------------------------------------------------------------
def task_view(uow: Any, actor: Actor, case_no: str, task_id: str) -> dict:
    """The guided step page: instructions, form, case summary, documents, what happens next."""
    with denials_audited(uow.services, actor, object_type="task", object_id=task_id):
        with uow:
            case = load_case(uow, actor, case_no)
            inst = uow.load_instance(case.workflow_instance_id)
            try:
                inst.ready_task(task_id)
            except TaskNotFound:
                raise NotFound("任务不存在") from None
            except TaskNotReady as exc:
                raise TaskNoLongerAvailable(exc.bpmn_id, exc.state) from None
            view = next(t for t in inst.ready_tasks() if t.id == str(task_id))
            can_complete = _may_complete(uow, actor, case, view)
            row = uow.session.get(InstanceRow, case.workflow_instance_id)
            files = uow.session.get(ProcessVersion, row.process_version_id).source_files
            context = {**view.data, "case_no": case.case_no}
            return {"task_id": view.id, "bpmn_id": view.bpmn_id, "name": view.name,
                    "lane": view.lane, "due_at": _iso(view.due_at),
                    "can_complete": can_complete,
                    "instructions_html": render_instructions(view.instructions, context),
                    "form": [_field(f, view.data) for f in view.form],
                    "case": case_summary(uow.session, case),
                    "documents": list_documents(uow.session, case),
                    "next_steps": next_steps(files, view.process_id, view.bpmn_id)}


def _may_complete(uow: Any, actor: Actor, case: Case, view: Any) -> bool:
    """True if the actor may act; supervisors, leaders and auditors in scope may only read."""
    row = uow.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id,
                                                     OpenTask.task_id == view.id)).first()
    if row is None:
        row = OpenTask(task_id=view.id, **task_facts(view, lane_roles(uow.session),
                                                  DepartmentIndex(uow.session)))
    try:
        require_task(actor, row, case)
    except Denied:
        if actor.has("supervisor", "leader", "auditor"):
            return False
        raise
    return True


def _field(f: Any, data: dict) -> dict:
    value = data.get(f.id, f.default)
    return {"id": f.id, "type": f.type, "label": f.label, "default": f.default,
            "value": value, "options": [{"value": v, "label": n} for v, n in f.options],
            "required": f.required, "validation": dict(f.validation)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
