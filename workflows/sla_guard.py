"""Per-case isolation of the SLA sweep (R-INC-1): back-off, incidents, and which due things keep
a case due. Used by ``workflows.sla``; see docs/scheduler.md "Isolation of failing cases"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select

from workflows.actors import SCHEDULER
from workflows.models import Case
from workflows.models.scheduling import SupervisionNotice, WorkOrderSla
from workflows.models.sla_failures import SlaCheckFailure


def held_cases(now: datetime) -> Any:
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
    return (SupervisionNotice.replied_at.is_(None), SupervisionNotice.reply_due_at.is_not(None),
            SupervisionNotice.work_order_id.is_not(None), ~seen.exists())


def record_check_failure(services: Any, case_id: int, now: datetime, exc: Exception) -> bool:
    """Count a failed check in a new transaction: back off, or raise an incident; True if so."""
    from workflows.incidents import raise_incident
    from workflows.timers import BACKOFF_MINUTES

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


def clear_failure(uow: Any, case_id: int) -> None:
    """A check succeeded: forget the case's failures (inside the check's unit of work)."""
    failure = uow.session.get(SlaCheckFailure, case_id)
    if failure is not None:
        uow.session.delete(failure)
