"""Recording the replay's inputs (docs/audit.md): the one place producers build them from.

Every engine step a service runs gets one input event in the same unit of work, after the step,
carrying the instance's state digest and the step's instant (``uow.step_at``). Workflow data
written outside a step travels as ``set_data`` on the event of that change. Re-exported by
``workflows.replay.case_replay``; producers import from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.instance import WorkflowInstance
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.models import Case

if TYPE_CHECKING:
    from workflows.runtime.unit_of_work import UnitOfWork

SET_DATA = "set_data"


def input_payload(instance: WorkflowInstance, *, at: datetime | None = None, **extra: Any) -> dict:
    """Payload for an input event: ``extra`` plus the state digest after the step (and its instant).

    Call it after the engine step, in the same unit of work, and pass ``at`` when the step ran under
    a clock instant other than the audit event's ``occurred_at`` (``uow.step_at``).
    """
    payload = dict(extra)
    payload["state_digest"] = instance.state_digest()
    if at is not None:
        payload["at"] = at.isoformat()
    return payload


def record_input(uow: UnitOfWork, action: str, actor: Actor, case: Case | int | None,
                 instance: WorkflowInstance, *, object_type: str, object_id: Any,
                 **fields: Any) -> None:
    """Record the input event of the engine step ``uow`` just ran (its instant: ``uow.step_at``)."""
    uow.audit.record(action, actor, case=case, object_type=object_type, object_id=object_id,
                     **input_payload(instance, at=uow.step_at, **fields))


def record_timers_fired(uow: UnitOfWork, actor: Actor, case: Case | None,
                        instance: WorkflowInstance, armed: list[tuple[str, datetime]], *,
                        instance_id: int | None = None) -> list[str]:
    """The one ``timer_fired`` event of a firing step; ``armed`` = the timers before it.

    Returns the names of the timers that fired (a cycle timer re-armed at a later time counts)."""
    now = uow.step_at or uow.clock.now()
    still = set(instance.armed_timers())
    fired = [(name, due) for name, due in armed if due <= now and (name, due) not in still]
    first = fired[0] if fired else None
    record_input(uow, AuditAction.TIMER_FIRED, actor, case, instance, object_type="instance",
                 object_id=instance_id if instance_id is not None
                 else getattr(case, "workflow_instance_id", None),
                 fired_at=now.isoformat(), timers=[name for name, _ in fired],
                 timer=first[0] if first else None,
                 due_at=first[1].isoformat() if first else None,
                 lateness_s=round((now - first[1]).total_seconds(), 3) if first else None)
    return [name for name, _ in fired]


def write_data(uow: UnitOfWork, case: Case, **values: Any) -> dict:
    """Write workflow-level data outside an engine step; returns the fields for the event that
    records the change (``set_data`` + ``state_digest``), or {} when the case has no instance.

    Spread them into the audit event written right after, in the same unit of work: the replay
    applies ``set_data`` at that event and compares the digest."""
    instance_id = getattr(case, "workflow_instance_id", None)
    if instance_id is None:
        return {}
    instance = uow.load_instance(instance_id)
    instance.set_data(**values)
    return input_payload(instance, at=None, **{SET_DATA: dict(values)})
