"""Service-task operations registered by name; they run inside the unit of work's transaction.

Every operation takes ``(context, task_data, **params)``; ``context`` is the unit of work's
``OperationContext`` (None in deploy smoke runs, where nothing may be written).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from engine.deadlines import SHANGHAI, WorkingCalendar
from engine.operations import OperationRegistry, current_step
from engine.script_engine import typed_start
from workflows.audit.log import AuditAction
from workflows.district.units import UnitResolver
from workflows.models import RISK_LABELS, Case, CaseParty, Party
from workflows.models.scheduling import NoticeKind, SupervisionNotice
from workflows.notify.case_notices import CONTACT_CHANNELS
from workflows.notify.delivery import notify_department

if TYPE_CHECKING:
    from workflows.runtime.unit_of_work import OperationContext, UnitOfWork

RISK_RANK = {"green": 0, "blue": 1, "yellow": 2, "orange": 3, "red": 4}


def notify(context: OperationContext | None, task_data: dict, *, template: str,
           to: str = "applicant", window: str | None = None, ends: str | None = None) -> dict:
    """Queue a notification in the outbox (delivered after commit by the outbox job).

    ``to``: applicant (each applicant party, by their preferred channel), lead_department,
    responsible_department (the task's own department), mediator, or a role code (leader,
    supervisor, triage_officer). Parameters carry no personal data.

    A reminder about a citizen's legal window names it: ``window`` its T-id and ``ends`` the
    window's own timer spec (``statutory_days(15) from labour_award_received_on``); the message
    then carries the typed start date and the last day (a phone-call task shows them).
    """
    result = {"template": template, "to": to}  # the same in a replay (no outbox state in it)
    extra = rights_window(context, task_data, window, ends) if window else {}
    _queue(context, task_data, template, to, extra)
    return result


def rights_window(context: OperationContext | None, task_data: dict, window: str,
                  ends: str | None) -> dict:
    """{"window", "window_start", "window_end"}: the T-id, the typed date the window counts from
    and its last day (a period ending at 24:00 ends on the day before the instant's midnight).
    A start not typed (or unreadable) leaves the dates out: a reminder never fails a step."""
    out = {"window": str(window)[:8]}
    spec, _, field = str(ends or "").partition(" from ")
    if context is None or not spec.strip() or not field.strip():
        return out
    calendar = context.uow.services.calendar
    zone = getattr(calendar, "tz", SHANGHAI)
    try:
        start = typed_start(task_data.get(field.strip()), zone)
        if start is None:
            return out
        end = calendar.resolve(spec.strip(), start).astimezone(zone)
    except ValueError:
        return out
    last = end.date() - timedelta(days=1) if end.time() == time(0) else end.date()
    return {**out, "window_start": start.date().isoformat(), "window_end": last.isoformat()}


def _queue(context: OperationContext | None, task_data: dict, template: str, to: str,
           extra: dict) -> None:
    """One outbox row per recipient, deduplicated per (case, step, template, recipient).

    The step is the service task calling the operation: the same step never queues a notice
    twice, while a later step (a second risk raise, a loop's next round) always gets its own."""
    if context is None:  # dry runs and deploy smoke runs have no unit of work
        return
    uow, case = context.uow, context.case
    case_key = getattr(case, "id", None) or task_data.get("case_id")
    step = current_step() or (getattr(uow, "step_at", None) or uow.clock.now()).isoformat()
    params = {"case_no": task_data.get("case_no"), "to": to, **extra}
    for channel, kind, recipient in _recipients(uow, case, task_data, to):
        uow.outbox.add(
            channel=channel, recipient_type=kind, recipient_id=recipient, template=template,
            params=params, dedupe_key=f"case:{case_key}:{step}:{template}:{kind}:{recipient}",
            case=case)


def _recipients(uow: UnitOfWork, case: Case | None, data: dict,
                to: str) -> list[tuple[str, str, Any]]:

    if to == "applicant":
        case_id = getattr(case, "id", case)
        if not case_id:
            return []
        rows = uow.session.execute(select(Party.id, Party.contact_preference).join(
            CaseParty, CaseParty.party_id == Party.id).where(
            CaseParty.case_id == case_id, CaseParty.role == "applicant"))
        return [(CONTACT_CHANNELS[pref], "party", pid) for pid, pref in rows
                if pref in CONTACT_CHANNELS]
    if to in ("lead_department", "responsible_department", "police"):
        code = {"lead_department": data.get("department"), "police": "GA"}.get(
            to, data.get("dept") or data.get("department"))
        lead = getattr(case, "lead_department_id", None)
        if to == "lead_department" and lead:
            return [("file", "department", lead)]
        unit = UnitResolver(uow.session, getattr(case, "place_path", None)).id_of(code) \
            if code else None
        return [("file", "department", unit)] if unit else []
    if to == "mediator":
        mediator = data.get("mediator_id") or getattr(case, "mediator_id", None)
        if str(mediator or "").isascii() and str(mediator or "").isdigit():
            return [("file", "user", int(str(mediator)))]
        return _recipients(uow, case, data, "lead_department")  # the lead unit's mediators
    return [("file", "role", to)]


def raise_risk(context: OperationContext | None, task_data: dict, *, level: str,
               reason: str = "") -> str:
    """Raise the case's risk colour to ``level`` if higher (never lowers); returns the colour.

    The result variable of the shipped processes is ``risk_level``, so the process data and the
    case row agree. A raise to red or orange is audited and the leadership is notified.
    """
    # the result depends on task data only (a replay re-runs this step and must get the same);
    # the case row (the colour of the last commit) decides what is reported and audited
    in_data = str(task_data.get("risk_level") or "blue")
    target = level if RISK_RANK.get(level, -1) > RISK_RANK.get(in_data, 1) else in_data
    case = None if context is None else context.case
    if context is None or case is None \
            or RISK_RANK.get(target, 0) <= RISK_RANK.get(case.risk_level or "blue", 1):
        return target

    before, case.risk_level = case.risk_level, target
    context.uow.audit.record(AuditAction.RISK_CHANGED, context.actor, case=case,
                             object_type="case", object_id=case.case_no, before=before,
                             after=target, reason=reason, trigger="bpmn:raise_risk")
    if target in ("red", "orange"):   # report upward; red also to the police (信访工作条例 Art 25)
        data = {**task_data, "risk_level": target}
        # the notice names the colour and the reason (two raises are two distinct notices)
        extra = {"risk": RISK_LABELS.get(target, target), "reason": reason or "-"}
        _queue(context, data, "risk_raised", "leader", extra)
        if target == "red":
            _queue(context, data, "risk_raised", "police", extra)
    return target


def response_due(context: OperationContext | None, task_data: dict, *, spec: str,
                 start: str | None = None) -> str:
    """The instant a limit ``spec`` ends when counted from ``start`` (an offset-aware ISO time,
    e.g. the case's ``received_at``), as an ISO time a timer reads.

    Without a start the spec itself is returned: the timer then counts from when it is armed.
    The result depends on the task data and the calendar only (a replay gets the same)."""
    if not start:
        return spec
    try:
        moment = datetime.fromisoformat(str(start))
    except ValueError:
        return spec
    if moment.tzinfo is None:
        return spec
    calendar = context.uow.services.calendar if context is not None else WorkingCalendar()
    try:
        return calendar.resolve(str(spec), moment).isoformat()
    except ValueError:  # a bad spec fails in the timer, where the deploy lint points at it
        return spec


# the statutory limits an authority can miss, as a 督办单 names them (docs/legal-windows.md)
AUTHORITY_LIMITS = {"T-30": "信访事项办理期限", "T-31": "信访事项告知受理期限",
                    "T-33": "复查 / 复核答复期限", "T-25": "行政复议决定期限"}
REPLY_SPEC = "working_days(1)"   # T-53: the written reply to a 督办单


def supervise(context: OperationContext | None, task_data: dict, *, limit: str,
              to: str) -> dict:
    """A 督办单 (ladder level L1) to the body ``to`` (a unit kind such as XF, SF) that let its own
    statutory limit ``limit`` (a T-id) pass: a ``supervision_notice`` the body must answer within
    one working day (T-53), audited, and a notice to that body. Once per step (a retried or
    replayed step writes nothing new); the result depends on the parameters only."""
    result = {"limit": limit, "to": to}
    case = None if context is None else context.case
    if context is None or case is None:
        return result
    uow = context.uow
    key = f"legal:{case.id}:{current_step() or uow.clock.now().isoformat()}:{limit}"[:200]
    if uow.session.scalar(select(SupervisionNotice.id).where(SupervisionNotice.dedupe_key == key)):
        return result
    now = uow.clock.now()
    calendar = uow.services.calendar
    calendar.warm(uow.session)
    unit = UnitResolver(uow.session, case.place_path).id_of(to)
    what = AUTHORITY_LIMITS.get(limit, "法定期限")
    reply_due = calendar.resolve(REPLY_SPEC, now)
    notice = SupervisionNotice(
        case_id=case.id, department_id=unit, level=1, kind=NoticeKind.SUPERVISION,
        reason=f"{limit} {what}已届满", source=f"legal:{limit}", issued_at=now,
        issued_by=str(context.actor.id), limit_due_at=now,
        reply_due_at=reply_due, dedupe_key=key)
    uow.session.add(notice)
    uow.session.flush()
    uow.audit.record(AuditAction.SUPERVISION_ISSUED, context.actor, case=case,
                     object_type="supervision_notice", object_id=notice.id, level=1,
                     kind=notice.kind, source=notice.source, reason=notice.reason,
                     department_id=unit, reply_due_at=reply_due.isoformat())
    zone = calendar.tz
    notify_department(uow, case, unit, template="supervision_notice", key=key, params={
        "case_no": case.case_no, "limit": what, "reason": notice.reason,
        "due": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "reply_by": reply_due.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "risk": RISK_LABELS.get(case.risk_level, case.risk_level)})
    return result


def build_registry() -> OperationRegistry:
    """Every operation the shipped processes may name."""
    return OperationRegistry({"notify": notify, "raise_risk": raise_risk,
                              "response_due": response_due, "supervise": supervise})
