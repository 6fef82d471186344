"""The SLA sweep: warnings, breaches and the timeliness lights of every case with something due.

One transaction per case. A case whose check fails is rolled back and backs off on its own: later
cases are still checked, and the failing one is not retried at every sweep (see docs/scheduler.md,
"Isolation of failing cases").
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from engine.errors import ConcurrentUpdate
from workflows.casework.incidents import raise_incident
from workflows.core.actors import SCHEDULER
from workflows.deadlines.escalation import calendar_of, escalate
from workflows.deadlines.lights import make_limit, refresh_lights
from workflows.deadlines.sla import MAX_SUSPEND_DAYS, audit_clock, next_check, resume_clock
from workflows.models import Case, SlaClock, WorkOrder, WorkOrderRole
from workflows.models.cases import OPEN_ORDER_STATUSES
from workflows.models.scheduling import (
    RequestKind,
    RequestStatus,
    SlaRequest,
    SupervisionNotice,
    WorkOrderSla,
)
from workflows.models.sla_failures import SlaCheckFailure
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork
from workflows.scheduler.timers import BACKOFF_MINUTES

log = logging.getLogger(__name__)


def due_cases(services: Services, now: datetime, limit: int = 500) -> list[int]:
    """Cases with a clock, an order light or a 督办 reply due, through the partial indexes.

    Cases backing off after a failed check, or with an SLA incident, are left out."""
    held = held_cases(now)
    with services.session_factory() as session:
        ids = set(session.scalars(select(SlaClock.case_id).where(
            SlaClock.next_check_at.is_not(None), SlaClock.next_check_at <= now,
            SlaClock.case_id.not_in(held)).limit(limit)))
        ids |= set(session.scalars(select(WorkOrderSla.case_id).where(
            WorkOrderSla.next_check_at.is_not(None), WorkOrderSla.next_check_at <= now,
            WorkOrderSla.case_id.not_in(held)).limit(limit)))
        ids |= set(session.scalars(select(SupervisionNotice.case_id).where(
            *unseen_replies(), SupervisionNotice.reply_due_at <= now,
            SupervisionNotice.case_id.not_in(held)).limit(limit)))
        ids |= set(_unwatched_cases(session, limit, held))
    return sorted(ids)


def _unwatched_cases(session: Session, limit: int, held: Select[int]) -> list[int]:
    """Open work orders no light has been computed for yet (created since the last sweep), through
    the partial index ``ix_work_order_unwatched``: an idle sweep reads no open order (an anti-join
    with work_order_sla read every open order of the city at every sweep)."""
    return list(session.scalars(
        select(WorkOrder.case_id)
        .where(~WorkOrder.sla_watched, WorkOrder.status.in_(OPEN_ORDER_STATUSES),
               WorkOrder.case_id.not_in(held))
        .distinct().limit(limit)))


def next_check_at(services: Services, now: datetime | None = None) -> datetime | None:
    """Earliest pending SLA check (for re-arming the sweep job); held cases count from their
    ``retry_at`` only."""
    held = held_cases(now or services.clock.now())
    with services.session_factory() as session:
        moments = [
            session.scalar(select(SlaClock.next_check_at).where(
                SlaClock.next_check_at.is_not(None), SlaClock.case_id.not_in(held))
                .order_by(SlaClock.next_check_at).limit(1)),
            session.scalar(select(WorkOrderSla.next_check_at).where(
                WorkOrderSla.next_check_at.is_not(None), WorkOrderSla.case_id.not_in(held))
                .order_by(WorkOrderSla.next_check_at).limit(1)),
            session.scalar(select(SupervisionNotice.reply_due_at).where(
                *unseen_replies(), SupervisionNotice.case_id.not_in(held))
                .order_by(SupervisionNotice.reply_due_at).limit(1)),
            session.scalar(select(SlaCheckFailure.retry_at).where(
                SlaCheckFailure.retry_at.is_not(None))
                .order_by(SlaCheckFailure.retry_at).limit(1)),
        ]
    return min((m for m in moments if m is not None), default=None)


def sweep_sla(services: Services, now: datetime | None = None) -> int:
    """Check every case with something due; one transaction per case; returns cases checked.

    A case whose check fails is rolled back and backs off on its own: later cases are still
    checked, and the failing one is not retried at every sweep."""
    now = now or services.clock.now()
    checked = 0
    for case_id in due_cases(services, now):
        for _attempt in range(3):
            try:
                checked += check_case(services, case_id, now)
                break
            except ConcurrentUpdate:
                continue
            except Exception as exc:  # one case's failure must not stop the sweep
                log.warning("SLA check failed for case %s: %s", case_id, exc)
                record_check_failure(services, case_id, now, exc)
                break
    return checked


def check_case(services: Services, case_id: int, now: datetime) -> int:
    """Lock the case (SKIP LOCKED), advance its clocks and lights, commit; 0 if skipped."""
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.id == case_id)
                                   .with_for_update(skip_locked=True)).first()
        if case is None:
            return 0
        for clock in uow.session.scalars(select(SlaClock).where(
                SlaClock.case_id == case_id, SlaClock.next_check_at.is_not(None),
                SlaClock.next_check_at <= now)).all():
            _check_clock(uow, case, clock, now)
        refresh_lights(uow, case)
        clear_failure(uow, case_id)  # the case is healthy again
        uow.commit()
    return 1


def _check_clock(uow: UnitOfWork, case: Case, clock: SlaClock, now: datetime) -> None:
    if clock.paused_at is not None:  # the suspension cap is reached: the clock runs again
        audit_clock(uow, SCHEDULER, case, clock, "suspension_capped")
        resume_clock(uow, SCHEDULER, case, clock.kind,
                     at=clock.paused_at + timedelta(days=MAX_SUSPEND_DAYS))
        _end_requests(uow, clock, now)
        return
    limit = make_limit(calendar_of(uow), clock.kind, clock.started_at, clock.due_at, None,
                       warn=clock.warn_at)
    order = _lead_order(uow, case)
    source = f"sla:{clock.kind}"
    if now >= limit.warn and clock.warned_at is None:
        clock.warned_at = now
        audit_clock(uow, SCHEDULER, case, clock, "warned")
        escalate(uow, case, level=0, source=source, reason="期限过75%", limit_due=clock.due_at,
                 work_order=order)
    if now >= clock.due_at and clock.breached_at is None:
        clock.breached_at = now
        audit_clock(uow, SCHEDULER, case, clock, "breached")
        escalate(uow, case, level=1, source=source, reason="超过时限", limit_due=clock.due_at,
                 work_order=order)
    if now >= limit.red:
        escalate(uow, case, level=2, source=source, reason="超期超过3个工作日",
                 limit_due=clock.due_at, work_order=order)
    clock.next_check_at = next_check(uow, clock, now)


def _end_requests(uow: UnitOfWork, clock: SlaClock, now: datetime) -> None:
    for request in uow.session.scalars(select(SlaRequest).where(
            SlaRequest.clock_id == clock.id, SlaRequest.status == RequestStatus.APPROVED,
            SlaRequest.kind == RequestKind.SUSPEND)).all():
        request.status, request.ended_at = RequestStatus.ENDED, now


def _lead_order(uow: UnitOfWork, case: Case) -> WorkOrder | None:
    return uow.session.scalars(select(WorkOrder).where(
        WorkOrder.case_id == case.id, WorkOrder.role == WorkOrderRole.LEAD)
        .order_by(WorkOrder.round.desc())).first()


# -- isolation of failing cases ---------------------------------------------------------------
def held_cases(now: datetime) -> Select[int]:
    """Cases the sweep must not check now: backing off until ``retry_at``, or an incident."""
    return select(SlaCheckFailure.case_id).where(
        or_(SlaCheckFailure.retry_at.is_(None), SlaCheckFailure.retry_at > now))


def unseen_replies() -> tuple:
    """Unanswered 督办单 whose reply deadline the order's light has not yet taken into account.

    Once a check after the deadline has turned the light red, an unanswered notice is no longer
    a reason to check again (else an overdue reply would re-run the sweep every 100 ms)."""
    seen = select(WorkOrderSla.work_order_id).where(
        WorkOrderSla.work_order_id == SupervisionNotice.work_order_id,
        WorkOrderSla.checked_at >= SupervisionNotice.reply_due_at)
    return (SupervisionNotice.replied_at.is_(None), SupervisionNotice.closed_at.is_(None),
            SupervisionNotice.reply_due_at.is_not(None),
            SupervisionNotice.work_order_id.is_not(None), ~seen.exists())


def record_check_failure(services: Services, case_id: int, now: datetime, exc: Exception) -> bool:
    """Count a failed check in a new transaction: back off, or raise an incident; True if so."""
    with services.new_uow() as uow:
        row = uow.session.get(SlaCheckFailure, case_id, with_for_update=True)
        if row is None:
            row = SlaCheckFailure(case_id=case_id, attempts=0)
            uow.session.add(row)
        row.attempts += 1
        row.last_error, row.failed_at = f"{type(exc).__name__}: {exc}"[:2000], now
        incident = row.attempts >= services.settings.timer_max_attempts
        if incident:
            row.retry_at = None
            raise_incident(uow, SCHEDULER, case=uow.session.get(Case, case_id),
                           object_type="sla", object_id=case_id, element_id=None,
                           error=row.last_error, key=f"sla:{case_id}:{row.attempts}:{now}",
                           template="sla_incident", attempts=row.attempts)
        else:
            step = BACKOFF_MINUTES[min(row.attempts, len(BACKOFF_MINUTES)) - 1]
            row.retry_at = now + timedelta(minutes=step)
        uow.commit()
    return incident


def clear_failure(uow: UnitOfWork, case_id: int) -> None:
    """A check succeeded: forget the case's failures (inside the check's unit of work)."""
    failure = uow.session.get(SlaCheckFailure, case_id)
    if failure is not None:
        uow.session.delete(failure)
