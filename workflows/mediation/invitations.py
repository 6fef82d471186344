"""Inviting an expert of the pool to a case's session, and the expert's written opinion.

The invitation is a case action of the case's mediator, not a step of the process. Before it is
confirmed the conflicts of interest are shown (``preview_invitation``); the mediator invites
anyway only with a reason, which is kept with the conflicts on the invitation. The expert is told
the time and place through the outbox, reads the case under their own scope (summary, category,
the session, the mediator's note, parties masked; every look audited) and writes the opinion
once: it becomes a document of the case (``case_document`` kind ``expert_opinion``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engine.input_rules import text_error
from workflows.access.policy import (
    Denied,
    Permission,
    denials_audited,
    require,
    require_invited,
    user_id,
)
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.cases.parties import PartyVault, case_parties
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, FieldError, InvalidInput, NotFound
from workflows.district.places import location_of
from workflows.mediation.booking import place_text
from workflows.mediation.conflicts import conflicts
from workflows.models import (
    Case,
    CaseDocument,
    Department,
    Expert,
    ExpertInvitation,
    InvitationStatus,
    MediationSession,
    Room,
    SessionStatus,
    User,
)
from workflows.notify.delivery import notify_user
from workflows.runtime.unit_of_work import UnitOfWork

LOCAL = ZoneInfo("Asia/Shanghai")
NOTE_MAX, REASON_MAX = 1000, 200
OPINION_LIMITS = {"opinion": 4000, "basis": 2000, "recommendation": 1000}
WEEKDAYS = ("", "周一", "周二", "周三", "周四", "周五", "周六", "周日")


@dataclass
class Preview:
    """What the mediator sees before confirming: the expert and the conflicts found."""

    expert: dict
    conflicts: list[str]


@dataclass
class ExpertCase:
    """The case as an invited expert sees it."""

    invitation: dict
    case: dict
    session: dict
    parties: list[dict] = field(default_factory=list)
    opinion: dict | None = None


# -- the mediator's side ------------------------------------------------------------------------
def _require_case_mediator(actor: Actor, case: Case) -> None:
    require(actor, Permission.INVITE_EXPERT, case)
    if case.mediator_id is None or case.mediator_id != user_id(actor):
        raise Denied(ErrorCode.NOT_PERMITTED, "invite_expert.mediator", case_id=case.id,
                     object_type="case", object_id=case.case_no)


def _session_of(uow: UnitOfWork, case: Case, session_id: Any) -> MediationSession:
    text = str(session_id or "")
    row = uow.session.get(MediationSession, int(text)) if text.isdigit() and len(text) < 19 \
        else None
    if row is None or row.case_id != case.id:
        raise InvalidInput({"session": FieldError(ErrorCode.SESSION_NOT_FOUND)})
    if row.status != SessionStatus.BOOKED:
        raise InvalidInput({"session": FieldError(ErrorCode.SESSION_NOT_BOOKED,
                                                  {"status": row.status})})
    return row


def _expert_of(uow: UnitOfWork, expert_id: Any, session: MediationSession) -> Expert:
    text = str(expert_id or "")
    expert = uow.session.get(Expert, int(text)) if text.isdigit() and len(text) < 19 else None
    if expert is None or not expert.active:
        raise InvalidInput({"expert_id": FieldError(ErrorCode.EXPERT_NOT_FOUND)})
    day = session.starts_at.astimezone(LOCAL).isoweekday()
    if expert.available_days and day not in expert.available_days:
        raise InvalidInput({"expert_id": FieldError(ErrorCode.EXPERT_NOT_AVAILABLE,
                                                    {"day": WEEKDAYS[day]})})
    if uow.session.scalar(select(ExpertInvitation.id).where(
            ExpertInvitation.session_id == session.id,
            ExpertInvitation.expert_id == expert.id)) is not None:
        raise InvalidInput({"expert_id": FieldError(ErrorCode.ALREADY_INVITED)})
    return expert


def preview_invitation(uow: UnitOfWork, actor: Actor, *, case_no: str, session_id: Any,
                       expert_id: Any) -> Preview:
    """The expert and the conflicts of interest found; nothing is written."""
    with denials_audited(uow.services, actor, object_type="expert_invitation",
                         object_id=str(case_no)[:40]), uow:
        case = load_case(uow, actor, case_no)
        _require_case_mediator(actor, case)
        session = _session_of(uow, case, session_id)
        expert = _expert_of(uow, expert_id, session)
        return Preview(_expert_brief(uow, expert), conflicts(uow, case, expert))


def invite_expert(uow: UnitOfWork, actor: Actor, *, case_no: str, session_id: Any,
                  expert_id: Any, shared_note: str = "", reason: str = "") -> int:
    """Invite the expert to the session; with conflicts only when ``reason`` says why. The
    expert is told the time and place. Returns the invitation's id."""
    shared_note, reason = (shared_note or "").strip(), (reason or "").strip()
    errors: dict[str, FieldError] = {}
    for key, value, limit in (("shared_note", shared_note, NOTE_MAX),
                              ("reason", reason, REASON_MAX)):
        if value and (problem := text_error(value, max_length=limit, multiline=True)):
            errors[key] = problem
    if errors:
        raise InvalidInput(errors)
    pii_text.refuse(shared_note=shared_note, reason=reason)
    with denials_audited(uow.services, actor, object_type="expert_invitation",
                         object_id=str(case_no)[:40]), uow:
        case = load_case(uow, actor, case_no)
        _require_case_mediator(actor, case)
        session = _session_of(uow, case, session_id)
        expert = _expert_of(uow, expert_id, session)
        found = conflicts(uow, case, expert)
        if found and not reason:
            raise InvalidInput({"reason": FieldError(ErrorCode.CONFLICT_NOT_CONFIRMED)})
        row = ExpertInvitation(case_id=case.id, session_id=session.id, expert_id=expert.id,
                               status=InvitationStatus.INVITED, conflicts=found,
                               conflict_reason=reason[:REASON_MAX] if found else None,
                               invited_by=user_id(actor), invited_at=uow.clock.now(),
                               shared_note=shared_note or None)
        try:
            with uow.session.begin_nested():
                uow.session.add(row)
                uow.session.flush()
        except IntegrityError:
            raise ConcurrentUpdate("expert invited meanwhile") from None
        uow.audit.record(AuditAction.EXPERT_INVITED, actor, case=case,
                         object_type="expert_invitation", object_id=row.id,
                         expert_id=expert.id, session_id=session.id, conflicts=found,
                         invited_despite_conflicts=bool(found), note_shared=bool(shared_note))
        notify_user(uow, case, expert.user_id, template="expert_invited",
                    params={"case_no": case.case_no, "when": _when(session),
                            "place": place_text(uow, session)},
                    key=f"invitation:{row.id}")
        uow.commit()
        return row.id


def tell_invited(uow: UnitOfWork, case: Case, session: MediationSession, template: str) -> None:
    """A moved or cancelled session: its co-mediator and invited experts get the parties'
    notice too."""
    params = {"case_no": case.case_no, "when": _when(session), "place": place_text(uow, session)}
    if session.co_mediator_id is not None:
        notify_user(uow, case, session.co_mediator_id, template=template, params=params,
                    key=f"co_mediator:{session.id}:{session.starts_at.isoformat()}:"
                        f"{session.status}")
    rows = uow.session.execute(
        select(ExpertInvitation.id, Expert.user_id)
        .join(Expert, Expert.id == ExpertInvitation.expert_id)
        .where(ExpertInvitation.session_id == session.id,
               ExpertInvitation.status != InvitationStatus.WITHDRAWN))
    for invitation_id, expert_user in rows:
        notify_user(uow, case, expert_user, template=template, params=params,
                    key=f"invitation:{invitation_id}:{session.starts_at.isoformat()}:"
                        f"{session.status}")


def tell_co_mediator(uow: UnitOfWork, case: Case, session: MediationSession) -> None:
    """The mediator named to assist at a session is told when and where (no personal data)."""
    if session.co_mediator_id is None:
        return
    notify_user(uow, case, session.co_mediator_id, template="co_mediator_named",
                params={"case_no": case.case_no, "when": _when(session),
                        "place": place_text(uow, session)},
                key=f"co_mediator:{session.id}:{session.co_mediator_id}")


def session_experts(uow: UnitOfWork, case: Case) -> dict[int, list[dict]]:
    """The invited experts of each session of the case (the case page's 调解安排)."""
    rows = uow.session.execute(
        select(ExpertInvitation, Expert.field, User.display_name, Department.name)
        .join(Expert, Expert.id == ExpertInvitation.expert_id)
        .join(User, User.id == Expert.user_id)
        .outerjoin(Department, Department.id == Expert.unit_id)
        .where(ExpertInvitation.case_id == case.id)
        .order_by(ExpertInvitation.id))
    out: dict[int, list[dict]] = {}
    for inv, expert_field, name, unit in rows:
        out.setdefault(inv.session_id, []).append({
            "id": inv.id, "name": name, "unit": unit, "field": expert_field,
            "status": inv.status, "conflicts": list(inv.conflicts or []),
            "conflict_reason": inv.conflict_reason, "document_id": inv.document_id})
    return out


def invitable_experts(uow: UnitOfWork) -> list[dict]:
    """The active experts of the pool (the invite form's choice)."""
    rows = uow.session.execute(
        select(Expert, User.display_name, Department.name)
        .join(User, User.id == Expert.user_id)
        .outerjoin(Department, Department.id == Expert.unit_id)
        .where(Expert.active.is_(True), User.active.is_(True))
        .order_by(Expert.field, User.display_name))
    return [{"id": e.id, "name": name, "unit": unit, "field": e.field,
             "days": list(e.available_days or [])} for e, name, unit in rows]


# -- the expert's side ---------------------------------------------------------------------------
def _expert_brief(uow: UnitOfWork, expert: Expert) -> dict:
    user = uow.session.get(User, expert.user_id)
    unit = uow.session.get(Department, expert.unit_id) if expert.unit_id else None
    return {"id": expert.id, "name": user.display_name if user else "",
            "unit": unit.name if unit else None, "field": expert.field,
            "organisation": expert.organisation, "days": list(expert.available_days or [])}


def my_invitations(uow: UnitOfWork, actor: Actor) -> list[dict]:
    """The expert's invitations, newest session first, each as pending (the session is still
    ahead), due (the session has begun, no opinion yet) or done (opinion written)."""
    with denials_audited(uow.services, actor, object_type="page", object_id="expert"), uow:
        require(actor, Permission.WRITE_EXPERT_OPINION)
        uid = user_id(actor)
        now = uow.clock.now()
        rows = uow.session.execute(
            select(ExpertInvitation, Case.case_no, Case.category, MediationSession)
            .join(Expert, Expert.id == ExpertInvitation.expert_id)
            .join(Case, Case.id == ExpertInvitation.case_id)
            .join(MediationSession, MediationSession.id == ExpertInvitation.session_id)
            .where(Expert.user_id == uid, ExpertInvitation.status != InvitationStatus.WITHDRAWN)
            .order_by(MediationSession.starts_at.desc(), ExpertInvitation.id.desc()))
        out = []
        for inv, case_no, category, session in rows:
            state = "done" if inv.status == InvitationStatus.SUBMITTED else (
                "pending" if session.starts_at > now else "due")
            out.append({"id": inv.id, "case_no": case_no, "category": category,
                        "starts_at": session.starts_at, "ends_at": session.ends_at,
                        "session_status": session.status, "mode": session.mode,
                        "place": place_text(uow, session), "state": state})
        return out


def _my_invitation(uow: UnitOfWork, actor: Actor, invitation_id: Any) -> tuple[ExpertInvitation,
                                                                                 Case]:
    """The invitation if it is this expert's (else NotFound: ids of others are not confirmed);
    the policy decides on its case."""
    require(actor, Permission.WRITE_EXPERT_OPINION)
    text = str(invitation_id or "")
    inv = uow.session.get(ExpertInvitation, int(text)) if text.isdigit() and len(text) < 19 \
        else None
    expert = uow.session.get(Expert, inv.expert_id) if inv is not None else None
    if inv is None or expert is None or expert.user_id != user_id(actor) \
            or inv.status == InvitationStatus.WITHDRAWN:
        raise NotFound(ErrorCode.INVITATION_NOT_FOUND)
    case = uow.session.get(Case, inv.case_id)
    assert case is not None
    require_invited(uow.session, actor, case)
    return inv, case


def expert_case(uow: UnitOfWork, actor: Actor, invitation_id: Any) -> ExpertCase:
    """The case under the expert's scope; the look is audited (``party_viewed``, masked)."""
    with denials_audited(uow.services, actor, object_type="expert_invitation",
                         object_id=str(invitation_id)[:20]), uow:
        inv, case = _my_invitation(uow, actor, invitation_id)
        session = uow.session.get(MediationSession, inv.session_id)
        assert session is not None
        room = uow.session.get(Room, session.room_id) if session.room_id else None
        located = location_of(uow.session, case.place_id, case.place_path)
        lead = uow.session.get(Department, case.lead_department_id) \
            if case.lead_department_id else None
        parties = [{"role": link.role, "name": PartyVault.view(party)["name"],
                    "kind": party.kind} for link, party in case_parties(uow.session, case)]
        page = ExpertCase(
            invitation={"id": inv.id, "status": inv.status, "shared_note": inv.shared_note,
                        "invited_at": inv.invited_at},
            case={"case_no": case.case_no, "category": case.category, "summary": case.summary,
                  "urgency": case.urgency, "people_count": case.people_count,
                  "amount": float(case.amount) if case.amount is not None else None,
                  "lead_unit": lead.name if lead else None,
                  "place": "".join(located["names"]) if located else None},
            session={"starts_at": session.starts_at, "ends_at": session.ends_at,
                     "mode": session.mode, "status": session.status,
                     "room": room.name if room else None, "place": place_text(uow, session),
                     "link": session.meeting_link},
            parties=parties)
        if inv.document_id is not None:
            doc = uow.session.get(CaseDocument, inv.document_id)
            if doc is not None:
                page.opinion = {"id": doc.id, "title": doc.title, "body": doc.body,
                                "created_at": doc.created_at}
        uow.audit.record(AuditAction.PARTY_VIEWED, actor, case=case, object_type="case",
                         object_id=case.case_no, parties=[], masked=True, narrative=False,
                         purpose="case_page", decision="allow",
                         rule="expert_case.invited", ip=actor.ip,
                         session_hash=actor.session_hash)
        uow.commit()
        return page


def submit_opinion(uow: UnitOfWork, actor: Actor, invitation_id: Any,
                   form: Mapping[str, Any]) -> int:
    """The expert's written opinion (opinion, basis, recommendation), once: a document of the
    case titled with the expert's name and unit; the mediator is told. Returns the document id."""
    values = {key: str(form.get(key) or "").strip() for key in OPINION_LIMITS}
    errors: dict[str, FieldError] = {}
    if not values["opinion"]:
        errors["opinion"] = FieldError(ErrorCode.OPINION_REQUIRED)
    for key, limit in OPINION_LIMITS.items():
        if values[key] and key not in errors and \
                (problem := text_error(values[key], max_length=limit, multiline=True)):
            errors[key] = problem
    with denials_audited(uow.services, actor, object_type="expert_invitation",
                         object_id=str(invitation_id)[:20]), uow:
        inv, case = _my_invitation(uow, actor, invitation_id)
        if errors:
            raise InvalidInput(errors)
        pii_text.refuse(**values)
        if inv.status != InvitationStatus.INVITED:
            raise InvalidInput({"opinion": FieldError(ErrorCode.OPINION_SUBMITTED)})
        expert = uow.session.get(Expert, inv.expert_id)
        assert expert is not None
        brief = _expert_brief(uow, expert)
        title = f"专家书面意见（{brief['name']}，{brief['unit'] or brief['organisation'] or '—'}）"
        doc = CaseDocument(case_id=case.id, kind="expert_opinion", title=title[:200],
                           body=opinion_text(case, brief, values, uow.clock.now()),
                           created_by=user_id(actor), created_at=uow.clock.now())
        uow.session.add(doc)
        uow.session.flush()
        inv.status, inv.document_id = InvitationStatus.SUBMITTED, doc.id
        uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type="case_document",
                         object_id=doc.id, change="document_generated", kind="expert_opinion",
                         title=doc.title)
        uow.audit.record(AuditAction.EXPERT_OPINION_SUBMITTED, actor, case=case,
                         object_type="expert_invitation", object_id=inv.id, document_id=doc.id,
                         expert_id=expert.id)
        if case.mediator_id is not None:
            notify_user(uow, case, case.mediator_id, template="expert_opinion",
                        params={"case_no": case.case_no}, key=f"opinion:{inv.id}")
        uow.commit()
        return doc.id


def opinion_text(case: Case, brief: dict, values: dict, now: Any) -> str:
    """The opinion as a case document (Markdown, shown sanitised like every document)."""
    day = now.astimezone(LOCAL).date().isoformat()
    out = ["## 专家书面意见", "", f"案件编号：{case.case_no}", "",
           f"专家：{brief['name']}（{brief['unit'] or '—'}）", "", "**一、意见**", "",
           values["opinion"], ""]
    if values["basis"]:
        out += ["**二、依据（法律法规、政策或专业标准）**", "", values["basis"], ""]
    if values["recommendation"]:
        out += ["**三、调解建议**", "", values["recommendation"], ""]
    out += [f"日期：{day}"]
    return "\n".join(out)


def _when(session: MediationSession) -> str:
    return f"{session.starts_at.astimezone(LOCAL):%Y-%m-%d %H:%M}—" \
           f"{session.ends_at.astimezone(LOCAL):%H:%M}"

