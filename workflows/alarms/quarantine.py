"""The alarm quarantine: messages from devices jiefen does not know, for the intake clerks and
administrators to look at (register the device, or ignore a stray gateway)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from workflows.access.policy import Denied, denials_audited
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode
from workflows.models import QuarantinedAlarm, RoleCode
from workflows.runtime.unit_of_work import UnitOfWork

PAGE = 100
READERS = (RoleCode.INTAKE_CLERK, RoleCode.ADMIN)


@dataclass(frozen=True)
class QuarantineRow:
    """One kept-aside message."""

    device_id: str
    kind: str
    state: str
    severity: str
    occurred_at: datetime
    received_at: datetime
    reason: str


@dataclass(frozen=True)
class QuarantineList:
    """The newest messages (at most ``PAGE``) and how many there are in all."""

    rows: list[QuarantineRow]
    total: int


def list_quarantine(uow: UnitOfWork, actor: Actor) -> QuarantineList:
    """The quarantined alarms, newest first; intake clerks and administrators only (audited
    denial otherwise)."""
    with denials_audited(uow.services, actor, object_type="alarm_quarantine"):
        if actor.type not in ("system",) and not actor.has(*READERS):
            raise Denied(ErrorCode.QUARANTINE_ROLE, "alarm_quarantine.role",
                         object_type="alarm_quarantine")
    with uow:
        total = uow.session.scalar(select(func.count()).select_from(QuarantinedAlarm)) or 0
        rows = uow.session.scalars(select(QuarantinedAlarm).order_by(
            QuarantinedAlarm.received_at.desc(), QuarantinedAlarm.id.desc()).limit(PAGE)).all()
        return QuarantineList([QuarantineRow(r.device_id, r.kind, r.state, r.severity,
                                             r.occurred_at, r.received_at, r.reason)
                               for r in rows], total)
