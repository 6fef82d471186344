"""The supervision page: what is overdue, what the ladder sent (no personal data), timer
incidents with retry; and the department's reply to a 督办单."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import OutboxMessage
from workflows.access.policy import Denied, Permission, denials_audited, require, visible_cases
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.deadlines.escalation import reply_to_notice
from workflows.models import Case, Department, WorkOrder, WorkOrderStatus
from workflows.models.scheduling import SupervisionNotice
from workflows.runtime.bootstrap import Services

OPEN = (WorkOrderStatus.DISPATCHED, WorkOrderStatus.ACCEPTED, WorkOrderStatus.IN_PROGRESS)
# notices of the ladder: the shipped processes' and the light ladder's templates
LADDER_TEMPLATES = ("reminder", "sla_reminder", "sign_off_reminder", "handling_overdue",
                    "supervision_notice", "upgrade_notice", "tier_upgraded", "leadership",
                    "leadership_reminder", "joint_meeting_reminder", "manual_reminder",
                    "manual_supervision")


def overdue_orders(session: Session, actor: Actor) -> list[dict]:
    """Open work orders with a yellow, orange or red light in the actor's scope, worst first."""
    rank = {"red": 0, "orange": 1, "yellow": 2}
    rows = session.execute(
        select(WorkOrder, Case.case_no, Case.category, Case.risk_level, Case.tier,
               Department.name)
        .join(Case, Case.id == WorkOrder.case_id)
        .join(Department, Department.id == WorkOrder.department_id)
        .where(WorkOrder.status.in_(OPEN), WorkOrder.light.in_(tuple(rank)),
               visible_cases(actor))).all()
    out = [{"case_no": case_no, "category": category, "risk_level": risk, "tier": tier,
            "department": dept, "role": order.role, "status": order.status, "light": order.light,
            "breach_count": order.breach_count, "dispatched_at": order.dispatched_at,
            "due_at": order.due_at} for order, case_no, category, risk, tier, dept in rows]
    return sorted(out, key=lambda r: (rank[r["light"]], r["due_at"] or r["dispatched_at"]))


def ladder_sent(session: Session, actor: Actor, *, now: datetime, days: int = 30) -> list[dict]:
    """Supervision notices and ladder messages of the last ``days`` days, newest first."""
    since = now - timedelta(days=days)
    notices = session.execute(
        select(SupervisionNotice, Case.case_no).join(Case, Case.id == SupervisionNotice.case_id)
        .where(SupervisionNotice.issued_at >= since, visible_cases(actor))).all()
    messages = session.execute(
        select(OutboxMessage, Case.case_no).join(Case, Case.id == OutboxMessage.case_id)
        .where(OutboxMessage.created_at >= since,
               OutboxMessage.template.in_(LADDER_TEMPLATES), visible_cases(actor))).all()
    out = [{"at": n.issued_at, "case_no": case_no, "what": n.kind, "level": n.level,
            "reason": n.reason, "reply_due_at": n.reply_due_at, "replied_at": n.replied_at,
            "status": None} for n, case_no in notices]
    out += [{"at": m.created_at, "case_no": case_no, "what": m.template, "level": None,
             "reason": m.recipient_type, "reply_due_at": None, "replied_at": None,
             "status": m.status} for m, case_no in messages]
    return sorted(out, key=lambda r: r["at"], reverse=True)


# -- the department's reply to a 督办单 -------------------------------------------------------------
def department_notices(session: Session, actor: Actor) -> list[dict]:
    """督办单 (L1) sent to the actor's department, unanswered first (the reply page)."""
    if actor.department_id is None:
        return []
    rows = session.execute(
        select(SupervisionNotice, Case.case_no).join(Case, Case.id == SupervisionNotice.case_id)
        .where(SupervisionNotice.level == 1,
               SupervisionNotice.department_id == actor.department_id)).all()
    out = [{"id": n.id, "case_no": case_no, "issued_at": n.issued_at, "reason": n.reason,
            "reply_due_at": n.reply_due_at, "replied_at": n.replied_at, "reply": n.reply_note,
            "closed_at": n.closed_at} for n, case_no in rows]
    return sorted(out, key=lambda r: (r["replied_at"] is not None or r["closed_at"] is not None,
                                      r["reply_due_at"] or r["issued_at"]))


def reply_notice(services: Services, actor: Actor, notice_id: int, *, note: str) -> str:
    """The addressed department's written explanation (情况说明); returns the case code.

    Checked here (a handler of the notice's department who may see its case), recorded by
    ``escalation.reply_to_notice`` (audited ``supervision_replied``)."""
    pii_text.refuse(note=note)
    with denials_audited(services, actor, object_type="supervision_notice", object_id=notice_id):
        require(actor, Permission.REPLY_NOTICE)
        with services.session_factory() as session:
            notice = session.get(SupervisionNotice, notice_id)
            if notice is None or notice.level != 1:
                raise NotFound(ErrorCode.NOTICE_NOT_FOUND, notice_id=notice_id)
            case = session.get(Case, notice.case_id)
            if notice.department_id is None or notice.department_id != actor.department_id:
                raise Denied(ErrorCode.NOTICE_DEPARTMENT, "reply_notice.department",
                             case_id=case.id, object_type="supervision_notice",
                             object_id=notice_id)
            require(actor, Permission.VIEW_CASE, case, session=session)
            case_no = case.case_no
    reply_to_notice(services.new_uow(), actor, notice_id, note=note)
    return case_no
