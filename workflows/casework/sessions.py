"""A case's mediation sessions outside the task forms: the list, rescheduling and cancelling.

Booking happens in the process (the ``schedule_session`` task, ``task_effects``); moving a
booking needs no step of the process, cancelling one does: the process is told by the message
``session_cancelled`` and goes back to scheduling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from workflows.access.policy import Denied, Permission, denials_audited, require, user_id
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.casework.incidents import step_failures
from workflows.casework.steps import after_step, fire_timers_recorded
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.library import contract
from workflows.mediation import booking, mediators
from workflows.mediation.invitations import session_experts, tell_co_mediator, tell_invited
from workflows.models import Case, Department, MediationSession, RoleCode, Room, User
from workflows.runtime.unit_of_work import UnitOfWork


def case_sessions(uow: UnitOfWork, case: Case) -> list[dict]:
    """The case's sessions, latest first: when, where, status, the co-mediator and who attended
    how."""
    rows = uow.session.execute(
        select(MediationSession, Room.name, Room.code, Department.name, User.display_name)
        .outerjoin(Room, Room.id == MediationSession.room_id)
        .outerjoin(Department, Department.id == Room.unit_id)
        .outerjoin(User, User.id == MediationSession.co_mediator_id)
        .where(MediationSession.case_id == case.id)
        .order_by(MediationSession.starts_at.desc(), MediationSession.id.desc()))
    experts = session_experts(uow, case)
    return [{"id": row.id, "mode": row.mode, "room": room, "room_code": code, "unit": unit,
             "starts_at": row.starts_at, "ends_at": row.ends_at, "link": row.meeting_link,
             "status": row.status, "attendance": dict(row.attendance or {}),
             "cancel_reason": row.cancel_reason, "experts": experts.get(row.id, []),
             "co_mediator": co_name}
            for row, room, code, unit, co_name in rows]


def may_manage(actor: Actor, case: Case) -> bool:
    """Whether the actor moves and cancels this case's bookings (its mediator)."""
    try:
        _require_mediator(actor, case)
    except Denied:
        return False
    return actor.type in ("user", "api")


def _require_mediator(actor: Actor, case: Case) -> None:
    """Only the case's mediator (or the system) moves its bookings."""
    if actor.type not in ("user", "api"):
        return
    if not actor.has(RoleCode.MEDIATOR) or case.mediator_id != user_id(actor):
        raise Denied(ErrorCode.NOT_PERMITTED, "manage_sessions.mediator", case_id=case.id,
                     object_type="case", object_id=case.case_no)


def reschedule_session(uow: UnitOfWork, actor: Actor, *, case_no: str, session_id: Any,
                       form: Mapping[str, Any]) -> None:
    """Move a booked session to another time or room; the parties are told again."""
    with denials_audited(uow.services, actor, object_type="mediation_session",
                         object_id=str(session_id)[:20]), uow:
        case = load_case(uow, actor, case_no)
        _require_mediator(actor, case)
        row = booking.booked_session(uow, case, session_id)
        booking.reschedule(uow, actor, case, row, booking.read_slot(uow, actor, form))
        tell_invited(uow, case, row, "session_rescheduled")
        uow.commit()


def cancel_session(uow: UnitOfWork, actor: Actor, *, case_no: str, session_id: Any,
                   reason: str) -> None:
    """Cancel a booked session (the room is free again, the parties told) and send the process
    back to scheduling when it waits for that session."""
    pii_text.refuse(reason=reason)
    with denials_audited(uow.services, actor, object_type="mediation_session",
                         object_id=str(session_id)[:20]), \
            step_failures(uow.services, actor, case_no, message=contract.MSG_SESSION_CANCELLED):
        with uow:
            case = load_case(uow, actor, case_no)
            require(actor, Permission.VIEW_CASE, case, session=uow.session)
            _require_mediator(actor, case)
            row = booking.booked_session(uow, case, session_id)
            booking.cancel(uow, actor, case, row, reason)
            tell_invited(uow, case, row, "session_cancelled")
            inst = uow.load_instance(case.workflow_instance_id)
            fire_timers_recorded(uow, actor, case, inst)       # a passed deadline wins
            if contract.MSG_SESSION_CANCELLED in inst.waiting_messages():
                payload = {"session_id": row.id}
                with uow.recording(inst, actor, case=case):
                    inst.deliver_message(contract.MSG_SESSION_CANCELLED, payload)
                record_input(uow, AuditAction.MESSAGE_RECEIVED, actor, case, inst,
                             object_type="instance", object_id=case.workflow_instance_id,
                             name=contract.MSG_SESSION_CANCELLED, payload=payload)
            after_step(uow, case, inst)
            uow.commit()


def name_co_mediator(uow: UnitOfWork, actor: Actor, *, case_no: str, session_id: Any,
                     username: str) -> None:
    """The case's mediator names a second mediator (协助调解员) for a booked session, from the
    units whose mediators may be assigned to the case; a blank name takes the co-mediator off.
    The co-mediator sees the session among their upcoming ones and reads the case."""
    with denials_audited(uow.services, actor, object_type="mediation_session",
                         object_id=str(session_id)[:20]), uow:
        case = load_case(uow, actor, case_no)
        _require_mediator(actor, case)
        row = booking.booked_session(uow, case, session_id)
        booking.require_booked(row)
        before = row.co_mediator_id
        row.co_mediator_id = _co_mediator(uow, actor, case, username.strip()[:64])
        if row.co_mediator_id != before:
            tell_co_mediator(uow, case, row)
        uow.audit.record(AuditAction.SESSION_CO_MEDIATOR, actor, case=case,
                         object_type="mediation_session", object_id=row.id,
                         before=before, after=row.co_mediator_id)
        uow.commit()


def _co_mediator(uow: UnitOfWork, actor: Actor, case: Case, username: str) -> int | None:
    if not username:
        return None
    user = uow.session.scalars(select(User).where(User.username == username,
                                                  User.active.is_(True))).first()
    if user is None or not any(g.role.code == RoleCode.MEDIATOR for g in user.roles):
        raise InvalidInput({"co_mediator": FieldError(ErrorCode.MEDIATOR_REQUIRED)})
    if user.id == case.mediator_id:
        raise InvalidInput({"co_mediator": FieldError(ErrorCode.CO_MEDIATOR_IS_MEDIATOR)})
    mediators.require_choosable(uow, actor, case, user, "co_mediator")
    return user.id
