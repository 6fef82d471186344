"""Small helpers for engine-core tests through the unit of work (no case services needed)."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.models import AuditEvent
from engine.recorder import expand_step
from tests.conftest import fixture_bytes
from workflows.core.actors import SYSTEM, Actor
from workflows.processes.deploy import deploy_bundle

MEDIATOR = Actor(type="user", id="7", username="mediator1", roles=frozenset({"mediator"}),
                 department_id=3)


def deploy_simple(services) -> None:
    deploy_bundle(services.new_uow(), SYSTEM, fixture_bytes("simple.bpmn"))


def start_simple(services, case_id: int = 42) -> int:
    """Start the 'simple' fixture for a pseudo case id; returns the instance id."""
    uow = services.new_uow()
    with uow:
        row, _ = uow.start_instance("simple", data={"case_no": f"JF-T-{case_id}"}, actor=SYSTEM,
                                    case=case_id)
        uow.commit()
    return row.id


def complete(services, instance_id: int, bpmn_id: str, data: dict, *, case_id: int = 42,
             actor: Actor = MEDIATOR) -> None:
    uow = services.new_uow()
    with uow:
        instance = uow.load_instance(instance_id)
        task = instance.find_ready(bpmn_id)
        with uow.recording(instance, actor, case=case_id):
            instance.complete(task.id, data)
        uow.audit.record("task_completed", actor, case=case_id, object_type="task",
                         object_id=task.id, bpmn_id=bpmn_id, submitted=data)
        uow.commit()


def events(services, chain: str, action: str | None = None) -> list[AuditEvent]:
    """The chain's rows (of ``action``); ``task_state_changed``: every transition, also those
    recorded inside step events (as unsaved rows, one per transition)."""
    with services.session_factory() as session:
        query = select(AuditEvent).where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq)
        if action == "task_state_changed":
            return transitions(session.scalars(query.where(
                AuditEvent.action.in_(("task_state_changed", "engine_step")))))
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.scalars(query))


def transitions(rows) -> list[AuditEvent]:
    """Step events expanded into one-transition rows (not saved); other rows as they are."""
    out = []
    for row in rows:
        if row.action != "engine_step":
            out.append(row)
            continue
        for payload in expand_step(json.loads(row.payload)):
            out.append(AuditEvent(chain_key=row.chain_key, seq=row.seq, case_id=row.case_id,
                                  occurred_at=row.occurred_at, actor_type=row.actor_type,
                                  actor_id=row.actor_id, actor_role=row.actor_role,
                                  action="task_state_changed", object_type="task",
                                  object_id=payload["task_id"], payload=json.dumps(payload)))
    return out
