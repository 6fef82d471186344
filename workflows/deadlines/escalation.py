"""The escalation ladder: L0 催办 -> L1 督办单 -> L2 提级/挂牌督办 -> L3 领导包案,
and the five risk colours.

Every rung is idempotent: a ``supervision_notice`` row with a unique dedupe key built from
(case, source, work order, limit due time, level), so two schedulers, a retried sweep or a BPMN
service task reaching the same rung write it once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from workflows.audit.inputs import write_data
from workflows.audit.log import AuditAction
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.core.working_calendar import CalendarProvider
from workflows.models import RISK_LABELS, Case, RiskLevel, Tier, WorkOrder
from workflows.models.scheduling import NoticeKind, SupervisionNotice
from workflows.notify.delivery import notify_department, notify_role
from workflows.runtime.unit_of_work import UnitOfWork

RISK_RANK = {RiskLevel.GREEN: 0, RiskLevel.BLUE: 1, RiskLevel.YELLOW: 2, RiskLevel.ORANGE: 3,
             RiskLevel.RED: 4}
TIER_RANK: dict[str, int] = {Tier.COMMUNITY: 0, Tier.STREET: 1, Tier.DISTRICT: 2}
TIER_ZH = {Tier.COMMUNITY: "社区", Tier.STREET: "街道", Tier.DISTRICT: "区综治中心"}
LIMIT_ZH = {"response": "签收响应时限", "handling": "办理时限", "first_contact": "首次联系时限",
            "resolution": "办结时限", "feedback": "答复时限"}
KIND_OF_LEVEL = {0: NoticeKind.REMINDER, 1: NoticeKind.SUPERVISION, 2: NoticeKind.UPGRADE,
                 3: NoticeKind.LEADERSHIP}
REPLY_SPEC = "working_days(1)"   # T-53: written reply to a 督办单
MANUAL = "manual"                # source of a 催办 / 督办单 a supervisor issued by hand


def calendar_of(uow: UnitOfWork) -> CalendarProvider:
    """The working calendar, its overrides loaded through this unit of work's session.

    (A lazy load through a second connection would wait behind this transaction's SQLite lock.)"""
    calendar = uow.services.calendar
    calendar.warm(uow.session)
    return calendar


def notice_key(case_id: int, source: str, work_order_id: int | None, due: datetime | None,
               level: int) -> str:
    stamp = due.isoformat() if due else "-"
    return f"esc:{case_id}:{source}:{work_order_id or '-'}:{stamp}:L{level}"[:200]


def escalate(uow: UnitOfWork, case: Case, *, level: int, source: str, reason: str,
             limit_due: datetime | None = None, work_order: WorkOrder | None = None,
             actor: Actor = SCHEDULER, department_id: int | None = None,
             key: str | None = None) -> SupervisionNotice | None:
    """Take one rung of the ladder once; returns the new notice, None if it was taken before
    (``key``: the dedupe key when not the ladder's own, e.g. a supervisor's notice by hand)."""
    work_order_id = getattr(work_order, "id", None)
    key = key or notice_key(case.id, source, work_order_id, limit_due, level)
    if uow.session.scalar(select(SupervisionNotice.id).where(SupervisionNotice.dedupe_key == key)):
        return None
    now = uow.clock.now()
    department_id = department_id or getattr(work_order, "department_id", None) \
        or case.lead_department_id
    reply_due = calendar_of(uow).resolve(REPLY_SPEC, now) if level == 1 else None
    notice = SupervisionNotice(
        case_id=case.id, work_order_id=work_order_id, department_id=department_id, level=level,
        kind=KIND_OF_LEVEL[level], reason=reason[:200], source=source, issued_at=now,
        issued_by=str(actor.id), limit_due_at=limit_due, reply_due_at=reply_due, dedupe_key=key)
    uow.session.add(notice)
    uow.session.flush()
    uow.audit.record(AuditAction.SUPERVISION_ISSUED, actor, case=case,
                     object_type="supervision_notice", object_id=notice.id, level=level,
                     kind=notice.kind, source=source, reason=reason, work_order_id=work_order_id,
                     department_id=department_id, limit_due_at=_iso(limit_due),
                     reply_due_at=_iso(reply_due))
    _act(uow, case, notice, limit_due, actor)
    return notice


def _act(uow: UnitOfWork, case: Case, notice: SupervisionNotice, limit_due: datetime | None,
         actor: Actor) -> None:
    params = {"case_no": case.case_no, "limit": LIMIT_ZH.get(notice.source.split(":")[-1], "时限"),
              "due": _local(uow, limit_due), "reply_by": _local(uow, notice.reply_due_at),
              "reason": notice.reason, "risk": RISK_LABELS.get(case.risk_level, case.risk_level)}
    key = notice.dedupe_key
    if notice.source == MANUAL:  # by hand: the supervisor's reason, no overdue risk rise
        template = "manual_reminder" if notice.level == 0 else "manual_supervision"
        notify_department(uow, case, notice.department_id, template=template, params=params,
                          key=key)
    elif notice.level == 0:
        notify_department(uow, case, notice.department_id, template="sla_reminder",
                          params=params, key=key)
    elif notice.level == 1:
        notify_department(uow, case, notice.department_id, template="supervision_notice",
                          params=params, key=key)
        raise_risk(uow, actor, case, RiskLevel.YELLOW, reason="超时", trigger="overdue")
    elif notice.level == 2:
        upgrade_tier(uow, actor, case, reason=notice.reason)
        params["tier"] = TIER_ZH[Tier.DISTRICT]
        notify_department(uow, case, notice.department_id, template="tier_upgraded",
                          params=params, key=key)
        notify_role(uow, case, role="leader", template="tier_upgraded", params=params, key=key)
    else:
        notify_role(uow, case, role="leader", template="leadership", params=params, key=key)


def reply_to_notice(uow: UnitOfWork, actor: Actor, notice_id: int, *, note: str) -> None:
    """The department's written explanation (情况说明) to a 督办单; stops the L2 trigger."""
    if not note or not note.strip():
        raise InvalidInput({"note": FieldError(ErrorCode.NOTE_REQUIRED)})
    with uow:
        notice = uow.session.get(SupervisionNotice, notice_id)
        if notice is None or notice.level != 1:
            raise NotFound(ErrorCode.NOTICE_NOT_FOUND, notice_id=notice_id)
        if notice.closed_at is not None and notice.replied_at is None:
            raise InvalidInput({"note": FieldError(ErrorCode.NOTICE_CLOSED)})
        if notice.replied_at is None:
            notice.replied_at, notice.reply_note = uow.clock.now(), note.strip()[:2000]
            uow.audit.record(AuditAction.SUPERVISION_REPLIED, actor, case=notice.case_id,
                             object_type="supervision_notice", object_id=notice.id,
                             late=notice.reply_due_at is not None
                             and notice.replied_at > notice.reply_due_at)
        uow.commit()


# -- tier and risk ----------------------------------------------------------------------------
def upgrade_tier(uow: UnitOfWork, actor: Actor, case: Case, *, reason: str,
                 to: str = Tier.DISTRICT) -> bool:
    """Raise the case's tier (never lowers); sticky in workflow data so projection keeps it."""
    before = case.tier
    if before is not None and TIER_RANK.get(before, 0) >= TIER_RANK[to]:
        return False
    case.tier = to
    uow.audit.record(AuditAction.TIER_UPGRADED, actor, case=case, object_type="case",
                     object_id=case.id, before=before, after=str(to), reason=reason,
                     **_stick(uow, case, tier=str(to)))
    return True


def raise_risk(uow: UnitOfWork, actor: Actor, case: Case, level: str, *, reason: str,
               trigger: str) -> bool:
    """Raise the risk colour if ``level`` is higher; who and why go to the audit log."""
    if RISK_RANK[RiskLevel(level)] <= RISK_RANK.get(RiskLevel(case.risk_level), 1):
        return False
    _change_risk(uow, actor, case, level, reason=reason, trigger=trigger)
    return True


def set_risk(uow: UnitOfWork, actor: Actor, case: Case, level: str, *, reason: str,
             trigger: str = "manual") -> None:
    """Set the risk colour in either direction (routing table, triage override); reason needed."""
    if not reason.strip():
        raise InvalidInput({"reason": FieldError(ErrorCode.RISK_REASON_REQUIRED)})
    if case.risk_level != level:
        _change_risk(uow, actor, case, level, reason=reason, trigger=trigger)


def _change_risk(uow: UnitOfWork, actor: Actor, case: Case, level: str, *, reason: str,
                 trigger: str) -> None:
    before, case.risk_level = case.risk_level, str(RiskLevel(level))
    uow.audit.record(AuditAction.RISK_CHANGED, actor, case=case, object_type="case",
                     object_id=case.id, before=before, after=case.risk_level, reason=reason,
                     trigger=trigger, **_stick(uow, case, risk_level=case.risk_level))
    if case.risk_level in (RiskLevel.RED, RiskLevel.ORANGE):
        notify_role(uow, case, role="leader", template="risk_raised",
                    params={"case_no": case.case_no, "risk": RISK_LABELS[RiskLevel(level)],
                            "reason": reason}, key=f"risk:{case.risk_level}:{trigger}")


def risk_for(*, people: int = 1, threat: bool = False, second_complaint: bool = False,
             complex_case: bool = False, overdue: bool = False,
             dissatisfied: bool = False) -> RiskLevel:
    """The colour the facts call for (group size, threat, repeat complaint, complexity, delay)."""
    if threat or people >= 30:
        return RiskLevel.RED
    if people >= 10 or (second_complaint and complex_case):
        return RiskLevel.ORANGE
    if complex_case or overdue or dissatisfied or second_complaint:
        return RiskLevel.YELLOW
    return RiskLevel.BLUE


def apply_risk_event(uow: UnitOfWork, actor: Actor, case: Case, *, trigger: str, reason: str,
                     **facts: Any) -> bool:
    """An event (group size, threat, second complaint, overdue, rating) may raise the colour."""
    return raise_risk(uow, actor, case, risk_for(**facts), reason=reason, trigger=trigger)


def _stick(uow: UnitOfWork, case: Case, **values: str) -> dict:
    """Write into workflow-level data too (the projection copies these keys from the process);
    returns the ``set_data`` + ``state_digest`` fields that make the change replayable."""
    return write_data(uow, case, **values)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _local(uow: UnitOfWork, moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(calendar_of(uow).tz).strftime("%Y-%m-%d %H:%M")
