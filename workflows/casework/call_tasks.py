"""The call list (待回电): phone-call tasks for citizens who prefer the phone, in the inbox of the
unit responsible for the case (docs/legal-windows.md, "Phone tasks").

A rights reminder to a citizen whose channel is the phone becomes a ``call_task`` row
(``workflows.notify.channels.PhoneTaskChannel``). This module lists the open ones to the people
who should call, reveals the number to call (an audited ``party_unmasked`` with the purpose
"contact") and records the outcome (``call_task_completed``, audited; the note is checked for
personal data and stored encrypted). Who sees a call:

* a task of a unit (the case's lead unit): that unit's handlers, mediators and intake clerks;
* a task without a unit (a case still at the centre, e.g. routed at screening): the centre's
  triage officers and intake clerks;

and always only on cases the actor may read (``visible_cases``). Everything else is "not found":
scope is checked before any side effect. Completing is a conditional update: of two people
completing the same call, the second gets ``CallTaskTaken`` (409).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from engine.crypto import field_aad
from engine.input_rules import text_error
from workflows.access.policy import Denied, denials_audited, user_id, visible_cases
from workflows.audit.log import AuditAction
from workflows.cases.parties import unmask_party
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import (
    ErrorCode,
    FieldCode,
    FieldError,
    InvalidInput,
    NotFound,
    TaskNoLongerAvailable,
)
from workflows.models import CallOutcome, CallTask, CallTaskStatus, Case, Party, RoleCode
from workflows.runtime.unit_of_work import UnitOfWork

UNIT_CALLERS = (RoleCode.DEPT_HANDLER, RoleCode.MEDIATOR, RoleCode.INTAKE_CLERK)
CENTRE_CALLERS = (RoleCode.TRIAGE_OFFICER, RoleCode.INTAKE_CLERK)
OUTCOMES = tuple(str(o) for o in CallOutcome)
MAX_NOTE = 500
PER_PAGE = 50
REVEAL_PURPOSE = "contact"


class CallTaskTaken(TaskNoLongerAvailable):
    """Someone else completed (or the system cancelled) this call meanwhile."""

    def __init__(self, call_id: int):
        super().__init__(f"call_task:{call_id}", "done")


@dataclass(frozen=True)
class CallRow:
    """One open call as the list shows it: codes, masked values and dates, no clear data."""

    id: int
    case_no: str
    party_id: str | None
    name: str | None          # masked
    phone: str | None         # masked
    reason: str               # the notice template (a label table words it)
    window_id: str | None     # T-id of the legal window the reminder is about
    window_start: date | None
    window_end: date | None
    due_at: datetime | None
    created_at: datetime


def may_call(actor: Actor) -> bool:
    """Whether the actor has a call list at all (the inbox shows its tab then)."""
    return user_id(actor) is not None and actor.has(*UNIT_CALLERS, *CENTRE_CALLERS)


def require_caller(uow: UnitOfWork, actor: Actor, **context: object) -> None:
    """Roles that make no calls (supervisors, leaders, auditors, owners, admins) are refused
    (audited ``access_denied``) before anything is read."""
    if not may_call(actor):
        with denials_audited(uow.services, actor, object_type="call_task", **context):
            raise Denied(ErrorCode.NOT_PERMITTED, "call_task.role", object_type="call_task",
                         object_id=context.get("object_id"))


def scope(actor: Actor) -> ColumnElement[bool]:
    """The calls this actor is to make (a WHERE clause on CallTask joined to Case)."""
    clauses: list[ColumnElement[bool]] = []
    if actor.department_id is not None and actor.has(*UNIT_CALLERS):
        clauses.append(CallTask.department_id == actor.department_id)
    if actor.has(*CENTRE_CALLERS):
        clauses.append(CallTask.department_id.is_(None))
    if not clauses or user_id(actor) is None:
        return false()
    return and_(or_(*clauses), visible_cases(actor))


def open_count(uow: UnitOfWork, actor: Actor) -> int:
    """How many open calls wait for this actor (the inbox tab's figure): one statement."""
    with uow:
        return int(uow.session.scalar(
            select(func.count(CallTask.id)).join(Case, Case.id == CallTask.case_id)
            .where(CallTask.status == CallTaskStatus.OPEN, scope(actor))) or 0)


def open_calls(uow: UnitOfWork, actor: Actor, *, limit: int = PER_PAGE) -> list[CallRow]:
    """The open calls, earliest due first: one statement whatever their number."""
    require_caller(uow, actor)
    with uow:
        rows = uow.session.execute(
            select(CallTask, Case.case_no, Party.masked)
            .join(Case, Case.id == CallTask.case_id)
            .outerjoin(Party, Party.id == CallTask.party_id)
            .where(CallTask.status == CallTaskStatus.OPEN, scope(actor))
            .order_by(CallTask.due_at.asc().nulls_last(), CallTask.id).limit(limit))
        return [_row(call, case_no, masked) for call, case_no, masked in rows]


def _row(call: CallTask, case_no: str, masked: dict | None) -> CallRow:
    masked = masked or {}
    return CallRow(call.id, case_no, call.party_id, masked.get("name"), masked.get("phone"),
                   call.reason, call.window_id, call.window_start, call.window_end, call.due_at,
                   call.created_at)


def _scoped(uow: UnitOfWork, actor: Actor, call_id: int) -> tuple[CallTask, Case]:
    found = uow.session.execute(
        select(CallTask, Case).join(Case, Case.id == CallTask.case_id)
        .where(CallTask.id == call_id, scope(actor))).first()
    if found is None:
        raise NotFound(ErrorCode.NOT_FOUND, call_task=call_id)
    return found[0], found[1]


def reveal_phone(uow: UnitOfWork, actor: Actor, call_id: int) -> str | None:
    """The number to call, for an open call in the actor's list: the party's reveal with the
    purpose "contact" (audited ``party_unmasked``, committed before the number is returned)."""
    require_caller(uow, actor, object_id=call_id)
    with denials_audited(uow.services, actor, object_type="call_task", object_id=call_id), uow:
        call, case = _scoped(uow, actor, call_id)
        if call.status != CallTaskStatus.OPEN:
            raise CallTaskTaken(call_id)
        if call.party_id is None:
            raise NotFound(ErrorCode.PARTY_NOT_IN_CASE)
        party_id, case_no = call.party_id, case.case_no
    values = unmask_party(uow.services.new_uow(), actor, party_id, REVEAL_PURPOSE,
                          case_no=case_no, reason=f"call_task:{call_id}")
    return values.get("phone")


def complete_call(uow: UnitOfWork, actor: Actor, call_id: int, *, outcome: str,
                  note: str = "") -> None:
    """Record how the call went (reached / not reached, a note without personal data); audited.
    ``CallTaskTaken`` when it was completed meanwhile (nothing written)."""
    require_caller(uow, actor, object_id=call_id)
    note = (note or "").strip()
    errors: dict[str, FieldError] = {}
    if outcome not in OUTCOMES:
        errors["outcome"] = FieldError(FieldCode.REQUIRED if not outcome
                                       else FieldCode.NOT_AN_OPTION)
    if (error := text_error(note, multiline=True, max_length=MAX_NOTE)) is not None:
        errors["note"] = error
    if errors:
        raise InvalidInput(errors)
    pii_text.refuse(note=note)
    with denials_audited(uow.services, actor, object_type="call_task", object_id=call_id), uow:
        call, case = _scoped(uow, actor, call_id)
        now = uow.clock.now()
        note_enc = uow.services.cipher.encrypt(
            note, aad=field_aad("call_task", "note_enc", call.id)) if note else None
        done = uow.session.execute(
            update(CallTask).where(CallTask.id == call.id,
                                   CallTask.status == CallTaskStatus.OPEN)
            .values(status=CallTaskStatus.DONE, outcome=outcome, note_enc=note_enc,
                    completed_at=now, completed_by=user_id(actor))
            .returning(CallTask.id)
            .execution_options(synchronize_session=False)).first()
        if done is None:
            raise CallTaskTaken(call_id)
        uow.audit.record(AuditAction.CALL_TASK_COMPLETED, actor, case=case,
                         object_type="call_task", object_id=call.id, outcome=outcome,
                         reason=call.reason, window=call.window_id, party_id=call.party_id,
                         noted=bool(note))
        uow.commit()
