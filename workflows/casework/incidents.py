"""Incidents: a failure that must not pass silently, recorded in its own small
unit of work after the failing one rolled back.

* An engine step that fails while a user completes a task or a message is delivered (an
  expression naming unknown data, an operation raising): the step is rolled back, the instance
  goes to status 'incident' with ``last_error``, ``incident_raised`` names the BPMN element, the
  supervisors get a notice, and the caller gets ``ProcessIncident`` (a clear page, not a 500).
* The timer sweep (``workflows.scheduler.timers``) and the SLA sweep
  (``workflows.scheduler.sla_sweep``) raise theirs through ``raise_incident`` after repeated
  failures.

Supervisors see instance incidents and retry them on the supervision page (``incidents`` /
``retry_incident`` below); SLA incidents: ``sla_incidents`` / ``retry_sla_check``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineStepFailed
from engine.models import InstanceRow, ProcessVersion
from workflows.access.policy import Permission, denials_audited, require, visible_cases
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound, ProcessIncident
from workflows.library.graph import process_names
from workflows.models import Case
from workflows.models.sla_failures import SlaCheckFailure
from workflows.notify.delivery import notify_role
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
MAX_ERROR = 2000


def raise_incident(uow: UnitOfWork, actor: Actor, *, case: Case | None, object_type: str,
                   object_id: Any, element_id: str | None, error: str, key: str,
                   template: str = "incident", **payload: Any) -> None:
    """Audit ``incident_raised`` and notify the case's supervisors (once per ``key``)."""
    uow.audit.record(AuditAction.INCIDENT_RAISED, actor, case=case, object_type=object_type,
                     object_id=object_id, element_id=element_id, error=error, **payload)
    if case is not None:
        notify_role(uow, case, role="supervisor", template=template,
                    params={"case_no": case.case_no, "element": element_id or ""}, key=key)


@contextmanager
def step_failures(services: Services, actor: Actor, case_no: str | None,
                  **context: Any) -> Iterator[None]:
    """Wrap a service's ``with uow:`` block: an engine step failing inside it (already rolled
    back when it leaves the block) becomes an incident and ``ProcessIncident``.

    ``case_no`` None (intake: the new case was rolled back too): a system incident."""
    try:
        yield
    except EngineStepFailed as exc:
        log.warning("engine step failed in case %s at %s: %s", case_no, exc.element_id, exc)
        if case_no is None:
            record_system_failure(services, actor, exc, **context)
        else:
            record_step_failure(services, actor, case_no, exc, **context)
        raise ProcessIncident(case_no, exc.element_id) from exc


def record_step_failure(services: Services, actor: Actor, case_no: str, exc: EngineStepFailed,
                        **context: Any) -> bool:
    """Put the case's instance into 'incident' in a new transaction; True if newly raised.

    The same failure again (a user retrying) changes nothing and notifies nobody twice."""
    error = f"{exc.element_id or '?'}: {exc}"[:MAX_ERROR]
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).first()
        if case is None or case.workflow_instance_id is None:
            return False
        row = uow.session.scalars(select(InstanceRow).where(
            InstanceRow.id == case.workflow_instance_id).with_for_update()).first()
        if row is None or row.status in ("completed", "cancelled") \
                or (row.status == "incident" and row.last_error == error):
            return False
        row.status, row.last_error, row.updated_at = "incident", error, uow.clock.now()
        detail = {k: v for k, v in context.items() if v is not None}
        raise_incident(uow, actor, case=case, object_type="instance", object_id=row.id,
                       element_id=exc.element_id, error=error, template="step_failed",
                       key=f"step:{row.id}:{row.version_id}", source="user_step",
                       **detail)
        uow.commit()
    return True


def record_system_failure(services: Services, actor: Actor, exc: EngineStepFailed,
                          **context: Any) -> None:
    """A step failed before any case exists (a new case's process start): audited on the system
    chain; the supervisors are notified once per element and hour."""
    error = f"{exc.element_id or '?'}: {exc}"[:MAX_ERROR]
    with services.new_uow() as uow:
        hour = uow.clock.now().strftime("%Y%m%dT%H")
        detail = {k: v for k, v in context.items() if v is not None}
        raise_incident(uow, actor, case=None, object_type="process", object_id=None,
                       element_id=exc.element_id, error=error, key="", **detail)
        notify_role(uow, None, role="supervisor", template="intake_failed",
                    params={"element": exc.element_id or ""},
                    key=f"system:{exc.element_id}:{hour}")
        uow.commit()


# -- SLA check incidents (workflows.deadlines.sla) ---------------------------------------------------------
def sla_incidents(session: Session, actor: Actor) -> list[dict]:
    """Cases whose SLA checks stopped after repeated failures, visible to the actor."""
    rows = session.execute(
        select(SlaCheckFailure, Case.case_no).join(Case, Case.id == SlaCheckFailure.case_id)
        .where(SlaCheckFailure.retry_at.is_(None), visible_cases(actor))
        .order_by(SlaCheckFailure.failed_at.desc())).all()
    return [{"case_id": row.case_id, "case_no": case_no, "attempts": row.attempts,
             "failed_at": row.failed_at, "error": (row.last_error or "")[:300]}
            for row, case_no in rows]


def retry_sla_check(uow: UnitOfWork, actor: Actor, case_id: int) -> None:
    """A supervisor clears an SLA incident: the case's clocks are checked by the next sweep.

    The caller checks the permission (as ``retry_incident`` does)."""
    with uow:
        row = uow.session.get(SlaCheckFailure, case_id)
        if row is None or row.retry_at is not None:
            raise NotFound(ErrorCode.NOT_FOUND, sla_incident_of_case=case_id)
        uow.audit.record(AuditAction.INCIDENT_RETRIED, actor, case=case_id, object_type="sla",
                         object_id=case_id, last_error=row.last_error)
        uow.session.delete(row)
        uow.commit()


# -- incidents (timers that failed JIEFEN_TIMER_MAX_ATTEMPTS times) -------------------------------
def incidents(session: Session, actor: Actor) -> list[dict]:
    """Instances in status 'incident' whose case the actor may see, newest first; the process by
    its name (its version's BPMN), the engine's error as it was raised (technical detail)."""
    rows = session.execute(
        select(InstanceRow, Case.case_no, ProcessVersion.source_files)
        .join(Case, Case.workflow_instance_id == InstanceRow.id)
        .outerjoin(ProcessVersion, ProcessVersion.id == InstanceRow.process_version_id)
        .where(InstanceRow.status == "incident", visible_cases(actor))
        .order_by(InstanceRow.id.desc())).all()
    return [{"instance_id": row.id, "case_no": case_no, "process_id": row.process_id,
             "process": process_names(files or {}).get(row.process_id) or row.process_id,
             "attempts": row.timer_attempts, "error": (row.last_error or "")[:300]}
            for row, case_no, files in rows]


def retry_incident(services: Services, actor: Actor, instance_id: int) -> str:
    """A supervisor clears an incident: the instance is swept again."""
    with denials_audited(services, actor, object_type="instance", object_id=instance_id):
        require(actor, Permission.RETRY_INCIDENT)
        with services.session_factory() as session:
            case = session.scalars(select(Case).where(
                Case.workflow_instance_id == instance_id)).first()
            if case is None:
                raise NotFound(ErrorCode.NOT_FOUND, instance_id=instance_id)
            require(actor, Permission.VIEW_CASE, case, session=session)
            case_no = case.case_no
    clear_instance_incident(services.new_uow(), actor, instance_id)
    return case_no


def clear_instance_incident(uow: UnitOfWork, actor: Actor, instance_id: int) -> None:
    """An operator clears an incident: the instance becomes due now and is swept again."""
    with uow:
        row = uow.session.get(InstanceRow, instance_id)
        if row is None or row.status != "incident":
            raise NotFound(ErrorCode.NOT_FOUND, incident_of_instance=instance_id)
        row.status, row.timer_attempts = "running", 0
        uow.load_instance(row.id)  # the commit recomputes due_at from the armed timers
        case = uow.session.scalars(select(Case).where(Case.workflow_instance_id == row.id)).first()
        uow.audit.record(AuditAction.INCIDENT_RETRIED, actor, case=case, object_type="instance",
                         object_id=row.id, last_error=row.last_error)
        uow.commit()
