"""Is an interface alive: each message through it is recorded (ok or not, with the reason), the
catalogue row keeps the last success and failure, and the health page counts the messages.

``record_interface_event`` is what every channel calls, inside the unit of work of the message it
handled (a failure whose work is rolled back is recorded in a unit of work of its own).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.models import Interface, InterfaceMessage, InterfaceStatus
from workflows.runtime.unit_of_work import UnitOfWork

MAX_REASON = 200


def interface_by_code(session: Session, code: str) -> Interface | None:
    return session.scalars(select(Interface).where(Interface.code == code)).first()


def record_interface_event(uow: UnitOfWork, interface_code: str, ok: bool,
                           reason: str | None = None) -> None:
    """Note one message through ``interface_code`` (ok or failed with ``reason``, a short code
    or sentence without personal data). An unknown code is ignored: the catalogue decides which
    interfaces are watched. A success also marks a planned interface as connected."""
    row = interface_by_code(uow.session, interface_code)
    if row is None:
        return
    now = uow.clock.now()
    text = (reason or "")[:MAX_REASON] or None
    if ok:
        row.last_success_at = now
        if row.status == InterfaceStatus.PLANNED:
            row.status = InterfaceStatus.CONNECTED
    else:
        row.last_failure_at, row.last_failure_reason = now, text
    uow.session.add(InterfaceMessage(interface_id=row.id, at=now, ok=ok, reason=text))


def record_failure(services, interface_code: str, reason: str) -> None:
    """A failure noted in a unit of work of its own (the message's own work was rolled back)."""
    with services.new_uow() as uow:
        record_interface_event(uow, interface_code, False, reason)
        uow.commit()
