"""A case's history read from its audit chain, under the policy (the API's and the pages').

Audit payloads carry task data and free text (form submissions, ``data_before``/``data_after``,
reasons, comments). Only auditors read them raw (and that read is itself an access event);
everybody else gets an allow-listed projection: codes, states, ids and the *names* of the fields
a step changed, never their values.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.models import AuditEvent
from engine.recorder import expand_step
from workflows.access.policy import denials_audited
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.core.actors import Actor
from workflows.models import RoleCode, User
from workflows.runtime.unit_of_work import UnitOfWork

# access metadata stays in the audit trail for auditors; it is not part of a case's history
HIDDEN_KEYS = {"ip", "session_hash", "actor_roles"}
# engine bookkeeping that people do not need on the case page
ENGINE_EVENTS = {"task_state_changed", "engine_step"}
# payload keys that hold codes, states, ids, counts and instants -- never free text or task data
SAFE_KEYS = frozenset({
    "after", "approved", "attempts", "before", "bpmn_id", "bpmn_name", "breach_count",
    "category", "change", "channel", "day", "decision", "department", "department_id",
    "departments", "dept", "due_at", "due_at_after", "due_at_before", "element_id", "event",
    "events", "extension", "fields", "fired_at", "format", "from", "instance_index", "kind",
    "lane", "late", "lateness_s", "level", "limit_due_at", "linked_as", "linked_case_no",
    "masked", "name", "people_count", "previous_status", "process", "process_id",
    "process_version_id", "purpose", "rating", "reopened_count", "reply_due_at", "result",
    "reused", "role", "round", "rule", "source", "status", "task", "task_id", "task_name",
    "timer", "timers", "to", "to_version_id", "trigger", "type", "urgency", "verified",
    "version", "work_order_id", "parties",
})


def project_payload(payload: dict) -> dict:
    """The allow-listed part of an audit payload plus the names (not values) of changed fields."""
    out = {k: v for k, v in payload.items() if k in SAFE_KEYS and _scalar_or_codes(v)}
    submitted = payload.get("submitted")
    if isinstance(submitted, dict):
        out["fields"] = sorted(str(k) for k in submitted)
    before, after = payload.get("data_before"), payload.get("data_after")
    if isinstance(after, dict):
        before = before if isinstance(before, dict) else {}
        out["changed_fields"] = sorted(str(k) for k in set(before) | set(after)
                                       if before.get(k) != after.get(k))
    return out


def _scalar_or_codes(value: object) -> bool:
    if value is None or isinstance(value, bool | int | float | str):
        return not isinstance(value, str) or len(value) <= 64   # a code, not a sentence
    if isinstance(value, list):
        return all(_scalar_or_codes(v) or (isinstance(v, dict) and set(v) <= {"id", "role"})
                   for v in value)
    return False


def case_history(uow: UnitOfWork, actor: Actor, case_no: str, *, engine_events: bool = True,
                 limit: int = 1000) -> list[dict]:
    """The case chain's events in sequence order (after a VIEW_CASE check): raw payloads for
    auditors (recorded as ``audit_payloads_read``), the allow-listed projection for the rest."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no):
        with uow:
            case = load_case(uow, actor, case_no)
            query = (select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}")
                     .order_by(AuditEvent.seq).limit(limit))
            if not engine_events:
                query = query.where(AuditEvent.action.not_in(ENGINE_EVENTS))
            rows = list(uow.session.scalars(query))
            names = _actor_names(uow, rows)
            raw = actor.has(RoleCode.AUDITOR)
            events = [event for row in rows for event in _events(row, names, raw=raw)]
            if raw:
                uow.audit.record(AuditAction.AUDIT_PAYLOADS_READ, actor, case=case,
                                 object_type="case", object_id=case.case_no, events=len(events),
                                 purpose="audit", decision="allow", rule="history.auditor",
                                 ip=actor.ip, session_hash=actor.session_hash)
                uow.commit()
            return events


def _actor_names(uow: UnitOfWork, rows: list[AuditEvent]) -> dict[str, str]:
    ids = {int(r.actor_id) for r in rows
           if r.actor_type in ("user", "api") and r.actor_id and r.actor_id.isdigit()}
    if not ids:
        return {}
    users = uow.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {str(uid): name for uid, name in users}


def _events(row: AuditEvent, names: dict[str, str], *, raw: bool = False) -> list[dict]:
    """The row as history events: a step event gives one per transition (as recorded before)."""
    payload = json.loads(row.payload) if row.payload else {}
    if row.action == AuditAction.ENGINE_STEP:
        return [{**_event(row, names, transition, raw=raw, action=AuditAction.TASK_STATE_CHANGED,
                          object_id=transition.get("task_id")), "transition": index}
                for index, transition in enumerate(expand_step(payload))]
    return [_event(row, names, payload, raw=raw)]


def _event(row: AuditEvent, names: dict[str, str], payload: dict, *, raw: bool = False,
           action: str | None = None, object_id: str | None = None) -> dict:
    payload = payload if raw else project_payload(payload)
    engine = action is not None
    return {"seq": row.seq, "action": action or row.action,
            "occurred_at": row.occurred_at.isoformat(),
            "actor_type": row.actor_type, "actor_role": row.actor_role,
            "actor_name": names.get(row.actor_id or "", row.actor_type),
            "object_type": "task" if engine else row.object_type,
            "object_id": object_id if engine else row.object_id,
            "payload": {k: v for k, v in payload.items() if k not in HIDDEN_KEYS}}
