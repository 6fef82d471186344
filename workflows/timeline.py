"""A case's history read from its audit chain, under the policy (API history, task lookups)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from engine.models import AuditEvent
from workflows.actors import Actor
from workflows.cases import load_case
from workflows.errors import NotFound, TaskNoLongerAvailable
from workflows.models import Case, OpenTask, User
from workflows.policy import denials_audited

# access metadata stays in the audit trail for auditors; it is not part of a case's history
HIDDEN_KEYS = {"ip", "session_hash", "actor_roles"}
# engine bookkeeping that people do not need on the case page
ENGINE_EVENTS = {"task_state_changed"}


def case_history(uow: Any, actor: Actor, case_no: str, *, engine_events: bool = True,
                 limit: int = 1000) -> list[dict]:
    """The case chain's events in sequence order (after a VIEW_CASE check)."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no):
        with uow:
            case = load_case(uow, actor, case_no)
            query = (select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}")
                     .order_by(AuditEvent.seq).limit(limit))
            if not engine_events:
                query = query.where(AuditEvent.action.not_in(ENGINE_EVENTS))
            rows = list(uow.session.scalars(query))
            names = _actor_names(uow, rows)
            return [_event(row, names) for row in rows]


def _actor_names(uow: Any, rows: list[AuditEvent]) -> dict[str, str]:
    ids = {int(r.actor_id) for r in rows
           if r.actor_type in ("user", "api") and r.actor_id and r.actor_id.isdigit()}
    if not ids:
        return {}
    users = uow.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {str(uid): name for uid, name in users}


def _event(row: AuditEvent, names: dict[str, str]) -> dict:
    payload = json.loads(row.payload) if row.payload else {}
    return {"seq": row.seq, "action": row.action, "occurred_at": row.occurred_at.isoformat(),
            "actor_type": row.actor_type, "actor_role": row.actor_role,
            "actor_name": names.get(row.actor_id or "", row.actor_type),
            "object_type": row.object_type, "object_id": row.object_id,
            "payload": {k: v for k, v in payload.items() if k not in HIDDEN_KEYS}}


def case_no_of_task(uow: Any, actor: Actor, task_id: str) -> str:
    """The case code of an open task (API callers know only the task id).

    A task that was open once but is completed now raises TaskNoLongerAvailable (after the
    policy check on its case); an unknown id raises NotFound.
    """
    with uow:
        row = uow.session.scalars(select(OpenTask).where(OpenTask.task_id == task_id)).first()
        if row is not None:
            return find_case_no(uow, row.case_id)
        done = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "task", AuditEvent.object_id == task_id,
            AuditEvent.action == "task_completed")).first()
        if done is None or done.case_id is None:
            raise NotFound("任务不存在")
        case_no = find_case_no(uow, done.case_id)
        bpmn_id = json.loads(done.payload or "{}").get("bpmn_id", "")
    with denials_audited(uow.services, actor, object_type="task", object_id=task_id):
        with uow:
            load_case(uow, actor, case_no)
    raise TaskNoLongerAvailable(bpmn_id, "completed")


def find_case_no(uow: Any, case_id: int) -> str:
    """The code of a case by id (internal: callers check the policy afterwards)."""
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound("案件不存在")
    return case.case_no
