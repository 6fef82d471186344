"""Supervision clocks (sla_clock): start, pause, resume, stop; suspension and extension requests.

The sweep that warns, escalates and refreshes the lights is ``workflows.scheduler.sla_sweep``.

SLA clocks are separate from BPMN timers: they watch (first contact, response, resolution, feedback)
and escalate; they never move the process. Both resolve deadlines with the one calculator.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.deadlines import WorkingCalendar
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound, NotPermitted
from workflows.core.working_calendar import CalendarProvider
from workflows.deadlines.escalation import calendar_of
from workflows.deadlines.lights import make_limit, refresh_lights
from workflows.models import Case, SlaClock, User, case_rows
from workflows.models.scheduling import (
    RequestKind,
    RequestStatus,
    SlaRequest,
)
from workflows.notify.delivery import notify_role
from workflows.runtime.unit_of_work import UnitOfWork

__all__ = ["decide_request", "pause_clock", "refresh_lights", "request_change", "resume_clock",
           "start_clock", "stop_clock"]

log = logging.getLogger(__name__)
APPROVERS = ("supervisor", "leader")
MAX_SUSPEND_DAYS = 30       # a suspension ends by itself after this many days (cap)
MAX_EXTENSIONS = 1          # approved extensions per clock; each at most the original period


# -- clocks ------------------------------------------------------------------------------------
def start_clock(uow: UnitOfWork, actor: Actor, case: Case, kind: str, policy: str, *,
                start: datetime | None = None) -> SlaClock:
    """Start (or restart) the case's ``kind`` clock with a deadline spec such as PT24H."""
    start = start or uow.clock.now()
    calendar = calendar_of(uow)
    due, warn = calendar.resolve(policy, start), calendar.warn_at(policy, start)
    clock = find_clock(uow, case, kind)
    if clock is None:
        clock = SlaClock(case_id=case.id, kind=kind)
        uow.session.add(clock)
    clock.policy, clock.started_at, clock.due_at, clock.warn_at = policy, start, due, warn
    clock.paused_at, clock.paused_seconds, clock.stopped_at = None, 0, None
    clock.breached_at = clock.warned_at = None
    clock.next_check_at = min(warn, due)
    audit_clock(uow, actor, case, clock, "started", policy=policy)
    return clock


def pause_clock(uow: UnitOfWork, actor: Actor, case: Case, kind: str, *, reason: str) -> SlaClock:
    """Stop the clock running (an approved suspension)."""
    clock = _clock(uow, case, kind)
    if clock.paused_at is None and clock.stopped_at is None:
        now = uow.clock.now()
        clock.paused_at, clock.pause_reason = now, reason
        clock.next_check_at = now + timedelta(days=MAX_SUSPEND_DAYS)  # the cap ends it
        audit_clock(uow, actor, case, clock, "paused", reason=reason)
    return clock


def resume_clock(uow: UnitOfWork, actor: Actor, case: Case, kind: str, *,
                 at: datetime | None = None) -> SlaClock:
    """Run the clock again (as of ``at``): due and warning times move on by the paused time."""
    clock = _clock(uow, case, kind)
    if clock.paused_at is not None:
        paused = (at or uow.clock.now()) - clock.paused_at
        clock.paused_seconds = (clock.paused_seconds or 0) + int(paused.total_seconds())
        clock.due_at += paused
        clock.warn_at = clock.warn_at + paused if clock.warn_at else None
        clock.paused_at = None
        clock.next_check_at = next_check(uow, clock, uow.clock.now())
        audit_clock(uow, actor, case, clock, "resumed", paused_seconds=int(paused.total_seconds()))
    return clock


def stop_clock(uow: UnitOfWork, actor: Actor, case: Case, kind: str) -> SlaClock:
    """The watched thing happened (contact made, case resolved): the clock stops."""
    clock = _clock(uow, case, kind)
    if clock.stopped_at is None:
        now = uow.clock.now()
        if clock.paused_at is not None:
            resume_clock(uow, actor, case, kind)
        clock.stopped_at, clock.next_check_at = now, None
        audit_clock(uow, actor, case, clock, "stopped", late=now > clock.due_at)
    return clock


def find_clock(uow: UnitOfWork, case: Case, kind: str) -> SlaClock | None:
    """The case's ``kind`` clock: from the case's rows when a step has them, else read."""
    if case_rows.known(uow.session, case):
        return case_rows.clocks(uow.session, case).get(kind)
    return uow.session.scalars(select(SlaClock).where(SlaClock.case_id == case.id,
                                                      SlaClock.kind == kind)).first()


def _clock(uow: UnitOfWork, case: Case, kind: str) -> SlaClock:
    clock = find_clock(uow, case, kind)
    if clock is None:
        raise NotFound(ErrorCode.CLOCK_NOT_FOUND, case_no=case.case_no, kind=kind)
    return clock


def next_check(uow: UnitOfWork, clock: SlaClock, now: datetime) -> datetime | None:
    """When the clock must next be looked at: warning, due, "> 3 WD overdue", or the cap."""
    if clock.stopped_at is not None:
        return None
    if clock.paused_at is not None:
        return clock.paused_at + timedelta(days=MAX_SUSPEND_DAYS)
    red = make_limit(calendar_of(uow), clock.kind, clock.started_at, clock.due_at, None).red
    moments = [m for m in (clock.warn_at, clock.due_at, red) if m and m > now]
    return min(moments, default=None)


def audit_clock(uow: UnitOfWork, actor: Actor, case: Case, clock: SlaClock, event: str,
                **extra: Any) -> None:
    uow.session.flush()
    uow.audit.record(AuditAction.SLA_CHANGED, actor, case=case, object_type="sla_clock",
                     object_id=clock.id, kind=clock.kind, event=event,
                     due_at=clock.due_at.isoformat() if clock.due_at else None, **extra)


# -- suspension and extension requests ---------------------------------------------------------
def request_change(uow: UnitOfWork, actor: Actor, case: Case, kind: str, *, request_kind: str,
                   reason: str, extension: str | None = None) -> SlaRequest:
    """Ask for a suspension (中止) or an extension (延期) of a clock; a reason is required."""
    errors = {}
    if not (reason or "").strip():
        errors["reason"] = FieldError(ErrorCode.REQUEST_REASON_REQUIRED)
    if request_kind == RequestKind.EXTEND:
        try:
            calendar_of(uow).check_spec(extension or "")
        except ValueError:
            errors["extension"] = FieldError(ErrorCode.BAD_EXTENSION)
    elif request_kind != RequestKind.SUSPEND:
        errors["request_kind"] = FieldError(ErrorCode.ONLY_SUSPEND_OR_EXTEND)
    if errors:
        raise InvalidInput(errors)
    clock = _clock(uow, case, kind)
    request = SlaRequest(case_id=case.id, clock_id=clock.id, kind=request_kind,
                         reason=reason.strip(), extension=extension, requested_by=str(actor.id),
                         requested_at=uow.clock.now(), status=RequestStatus.PENDING)
    uow.session.add(request)
    uow.session.flush()
    uow.audit.record(AuditAction.SLA_REQUESTED, actor, case=case, object_type="sla_request",
                     object_id=request.id, kind=request_kind, clock=kind, reason=request.reason,
                     extension=extension)
    notify_role(uow, case, role="supervisor", template="sla_request",
                params={"case_no": case.case_no, "kind": _kind_zh(request_kind)},
                key=f"sla_request:{request.id}")
    return request


def decide_request(uow: UnitOfWork, actor: Actor, request_id: int, *, approve: bool,
                   note: str = "") -> SlaRequest:
    """A supervisor approves or rejects; the requester may not decide their own request."""
    if not actor.has(*APPROVERS):
        raise NotPermitted(ErrorCode.SLA_APPROVER, rule="sla.approve")
    request = uow.session.get(SlaRequest, request_id)
    if request is None or request.status != RequestStatus.PENDING:
        raise NotFound(ErrorCode.REQUEST_NOT_FOUND, request_id=request_id)
    if request.requested_by == str(actor.id):
        raise NotPermitted(ErrorCode.FOUR_EYES, rule="sla.four_eyes")
    case, clock = _request_targets(uow, request)
    if approve:
        _apply(uow, actor, case, clock, request)
    request.status = RequestStatus.APPROVED if approve else RequestStatus.REJECTED
    request.decided_by, request.decided_at = str(actor.id), uow.clock.now()
    request.decision_note = note.strip() or None
    uow.audit.record(AuditAction.SLA_DECIDED, actor, case=case, object_type="sla_request",
                     object_id=request.id, approved=approve, note=request.decision_note,
                     due_at=clock.due_at.isoformat())
    return request


def _apply(uow: UnitOfWork, actor: Actor, case: Case, clock: SlaClock, request: SlaRequest) -> None:
    if request.kind == RequestKind.SUSPEND:
        clock.pause_approved_by = _user_id(uow, actor)
        pause_clock(uow, actor, case, clock.kind, reason=request.reason)
        return
    approved = uow.session.scalars(select(SlaRequest).where(
        SlaRequest.clock_id == clock.id, SlaRequest.kind == RequestKind.EXTEND,
        SlaRequest.status == RequestStatus.APPROVED)).all()
    if len(approved) >= MAX_EXTENSIONS:
        raise InvalidInput({"extension": FieldError(
            ErrorCode.TOO_MANY_EXTENSIONS, {"limit": MAX_EXTENSIONS})})
    assert request.extension is not None  # request_change refuses an extension without a spec
    new_due = extended_due(calendar_of(uow), request.extension, clock.due_at)
    if new_due - clock.due_at > clock.due_at - clock.started_at:
        raise InvalidInput({"extension": FieldError(ErrorCode.EXTENSION_TOO_LONG)})
    before, clock.due_at = clock.due_at, new_due
    clock.breached_at = None if uow.clock.now() < new_due else clock.breached_at
    clock.next_check_at = next_check(uow, clock, uow.clock.now())
    audit_clock(uow, actor, case, clock, "extended", before=before.isoformat(),
           extension=request.extension)


def _user_id(uow: UnitOfWork, actor: Actor) -> int | None:
    if actor.type != "user" or actor.id is None or not str(actor.id).isdigit():
        return None
    return int(actor.id) if uow.session.get(User, int(actor.id)) is not None else None


def extended_due(calendar: CalendarProvider | WorkingCalendar, spec: str,
                 due: datetime) -> datetime:
    """An extension runs n more units from the original expiry, not from the approval.

    A day-based deadline ends at 24:00, stored as 00:00 of the next day; counting must start
    after the deadline's own day, not after the next one."""
    local = due.astimezone(calendar.tz)
    if not spec.startswith("P") and (local.hour, local.minute, local.second) == (0, 0, 0):
        return calendar.resolve(spec, due - timedelta(microseconds=1))
    return calendar.resolve(spec, due)


def end_suspension(uow: UnitOfWork, actor: Actor, request_id: int) -> None:
    """Resume a clock suspended by an approved request."""
    request = uow.session.get(SlaRequest, request_id)
    if request is None or request.kind != RequestKind.SUSPEND \
            or request.status != RequestStatus.APPROVED:
        raise NotFound(ErrorCode.REQUEST_NOT_FOUND, request_id=request_id)
    case, clock = _request_targets(uow, request)
    resume_clock(uow, actor, case, clock.kind)
    request.status, request.ended_at = RequestStatus.ENDED, uow.clock.now()


def _request_targets(uow: UnitOfWork, request: SlaRequest) -> tuple[Case, SlaClock]:
    """The case and clock a request is about (both required by foreign keys)."""
    case = uow.session.get(Case, request.case_id)
    clock = uow.session.get(SlaClock, request.clock_id)
    assert case is not None and clock is not None, "a request's case and clock exist"
    return case, clock


def _kind_zh(kind: str) -> str:
    return "中止计时" if kind == RequestKind.SUSPEND else "延期"
