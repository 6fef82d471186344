"""The timer sweep: claim instances with ``due_at <= now``, fire, commit; retries and incidents.

Every timer fires once: one transaction per instance; on PostgreSQL the claim is
``FOR UPDATE SKIP LOCKED`` so a second scheduler never fires the same timer. Firing is
``refresh_timers(); do_engine_steps()``: a timer that fired is no longer armed, so a repeated sweep
over committed state changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.errors import ConcurrentUpdate
from engine.models import InstanceRow
from workflows.audit.inputs import record_timers_fired
from workflows.casework.incidents import raise_incident
from workflows.casework.steps import after_step
from workflows.core.actors import SCHEDULER
from workflows.models import Case
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

LIVE = ("running", "waiting")
BACKOFF_MINUTES = (1, 5, 25)   # after the 1st, 2nd, 3rd failed firing
CONFLICT_RETRIES = 3


@dataclass
class SweepResult:
    """What one sweep did (returned by ``sweep``)."""

    fired: int = 0
    conflicts: int = 0
    failures: int = 0
    incidents: int = 0
    skipped: list[int] = field(default_factory=list)


def sweep(services: Services, now: datetime | None = None, *,
          limit: int | None = None) -> SweepResult:
    """One pass over the due instances (at most ``limit``, default JIEFEN_SWEEP_BATCH)."""
    now = now or services.clock.now()
    result = SweepResult()
    for instance_id in due_candidates(services, now, limit or services.settings.sweep_batch):
        _fire_with_retries(services, instance_id, now, result)
    return result


def due_candidates(services: Services, now: datetime, limit: int) -> list[int]:
    """Ids of due live instances, earliest first, read through the partial ``due_at`` index.

    Strictly before ``now``: SpiffWorkflow fires a timer once its due time has passed."""
    query = (select(InstanceRow.id)
             .where(InstanceRow.due_at.is_not(None), InstanceRow.due_at < now,
                    InstanceRow.status.in_(LIVE))
             .order_by(InstanceRow.due_at, InstanceRow.id).limit(limit))
    with services.session_factory() as session:
        return list(session.scalars(query))


def next_due_at(services: Services) -> datetime | None:
    """The earliest armed timer of a live instance (for re-arming the sweep job)."""
    query = (select(InstanceRow.due_at).where(InstanceRow.due_at.is_not(None),
                                              InstanceRow.status.in_(LIVE))
             .order_by(InstanceRow.due_at).limit(1))
    with services.session_factory() as session:
        return session.scalar(query)


def _fire_with_retries(services: Services, instance_id: int, now: datetime,
                       result: SweepResult) -> None:
    for _attempt in range(CONFLICT_RETRIES):
        try:
            if fire_instance(services, instance_id, now):
                result.fired += 1
            return
        except ConcurrentUpdate:
            # someone (a user, another scheduler) committed first: reload and re-check
            result.conflicts += 1
        except Exception as exc:  # engine or operation failure: counted, never silent
            log.warning("timer firing failed for instance %s: %s", instance_id, exc)
            result.failures += 1
            if record_failure(services, instance_id, now, exc):
                result.incidents += 1
            return
    result.skipped.append(instance_id)  # conflicts do not count as failures; next sweep


def _claim(uow: UnitOfWork, instance_id: int, now: datetime) -> InstanceRow | None:
    """Lock the row if it is still due; skipped when another transaction holds it."""
    query = (select(InstanceRow)
             .where(InstanceRow.id == instance_id, InstanceRow.due_at.is_not(None),
                    InstanceRow.due_at < now, InstanceRow.status.in_(LIVE))
             .with_for_update(skip_locked=True))
    return uow.session.scalars(query).first()


def fire_instance(services: Services, instance_id: int, now: datetime) -> bool:
    """Claim one instance, fire its due timers, refresh the case, commit; True if one fired."""
    with services.new_uow() as uow:
        row = _claim(uow, instance_id, now)
        if row is None:
            return False
        inst = uow.load_instance(row.id)
        case = uow.session.scalars(select(Case).where(Case.workflow_instance_id == row.id)).first()
        armed, digest = inst.armed_timers(), inst.state_digest()
        due = [(name, at) for name, at in armed if at < now]
        with uow.recording(inst, SCHEDULER, case=case):
            inst.fire_timers()
        still = set(inst.armed_timers())
        if inst.state_digest() != digest:  # one input event per firing step (also cycle timers)
            record_timers_fired(uow, SCHEDULER, case, inst, armed, instance_id=row.id)
        row.timer_attempts, row.last_error = 0, None
        if case is not None:
            after_step(uow, case, inst)
        uow.commit()
    return any((name, at) not in still for name, at in due)


def record_failure(services: Services, instance_id: int, now: datetime, exc: Exception) -> bool:
    """Count a failed firing in a new transaction: back off, or raise an incident; True if so."""
    max_attempts = services.settings.timer_max_attempts
    with services.new_uow() as uow:
        row = uow.session.scalars(select(InstanceRow).where(InstanceRow.id == instance_id)
                                  .with_for_update()).first()
        if row is None or row.status not in LIVE:
            return False
        row.timer_attempts = (row.timer_attempts or 0) + 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        row.updated_at = uow.clock.now()
        incident = row.timer_attempts >= max_attempts
        if incident:
            row.status, row.due_at = "incident", None
            _raise_incident(uow, row, exc)
        else:
            step = BACKOFF_MINUTES[min(row.timer_attempts, len(BACKOFF_MINUTES)) - 1]
            row.due_at = now + timedelta(minutes=step)
        uow.commit()
    return incident


def _raise_incident(uow: UnitOfWork, row: InstanceRow, exc: Exception) -> None:
    case = uow.session.scalars(select(Case).where(Case.workflow_instance_id == row.id)).first()
    raise_incident(uow, SCHEDULER, case=case, object_type="instance", object_id=row.id,
                   element_id=getattr(exc, "element_id", None), error=row.last_error or "",
                   key=f"incident:{row.id}:{row.timer_attempts}", attempts=row.timer_attempts)
