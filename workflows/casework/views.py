"""Read models of the case and task pages (Flask-free, under the policy, personal data masked).

Showing masked party data is itself recorded (``party_viewed``): 人民调解法 Art 15 and the
access rules want every look at a citizen's record on file, not only the unmasking.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import TaskNotFound, TaskNotReady
from engine.instance import TaskView
from engine.models import AuditEvent, InstanceRow, ProcessVersion
from workflows.access.policy import (
    CaseAccess,
    Permission,
    case_access,
    denials_audited,
    require,
    require_task,
)
from workflows.audit.log import AuditAction
from workflows.cases.inbox import timeliness
from workflows.cases.lookup import case_summary, decrypt_narrative, find_case, load_case
from workflows.cases.parties import PURPOSES, PartyVault, case_parties, vulnerable_kinds
from workflows.cases.timeline import ENGINE_EVENTS, HIDDEN_KEYS, _actor_names
from workflows.casework.documents import list_documents
from workflows.casework.events import waiting_for_performance
from workflows.casework.sessions import case_sessions, may_manage
from workflows.casework.submissions import later_submissions
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import (
    ErrorCode,
    FieldError,
    InvalidInput,
    NotFound,
    NotPermitted,
    TaskNoLongerAvailable,
)
from workflows.deadlines.case_panel import deadline_panel, read_instance
from workflows.district.units import case_unit_names
from workflows.early_warning.listing import case_warnings
from workflows.library.contract import (
    ATTENDANCE_TASKS,
    CONSOLIDATION_TASKS,
    CORRECTED_CASE_FIELDS,
    IMPLIED_VALUES,
    SESSION_KEY,
)
from workflows.library.graph import element_names, field_words, next_steps, process_source
from workflows.mediation import booking
from workflows.mediation.invitations import invitable_experts
from workflows.mediation.mediators import mediator_groups
from workflows.models import (
    Case,
    Department,
    OpenTask,
    RoleCode,
    Submission,
    SubmissionLink,
    WorkOrder,
)
from workflows.notify.delivery import delivery_state
from workflows.runtime.unit_of_work import UnitOfWork

OPEN_ORDERS = ("dispatched", "accepted", "in_progress")
# who looked at party data is the audit trail's business (auditors' pages), not the case history
PAGE_HIDDEN = ENGINE_EVENTS | {"party_viewed"}


@dataclass
class CasePage:
    """Everything the case page shows."""

    summary: dict
    access: CaseAccess
    has_process: bool = True    # a case kept from before (an import) has no instance, no diagram
    parties: list[dict] = field(default_factory=list)
    narrative: str | None = None     # never filled here: revealed by a purpose-bound POST only
    has_narrative: bool = False
    work_orders: list[dict] = field(default_factory=list)
    documents: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)
    tasks: list[dict] = field(default_factory=list)
    purposes: dict = field(default_factory=lambda: dict(PURPOSES))
    deadlines: dict = field(default_factory=dict)       # the 时限 panel (case_deadlines)
    notifications: list[dict] = field(default_factory=list)
    vulnerable: list[str] = field(default_factory=list)  # codes of the parties' vulnerabilities
    warnings: list[dict] = field(default_factory=list)  # hotspot warnings counting this case
    sessions: list[dict] = field(default_factory=list)  # booked mediation sessions
    manage_sessions: bool = False                       # the case's mediator: move or cancel
    record_performance: bool = False    # waiting for an agreement's performance: the mediator records it
    expert_pool: list[dict] = field(default_factory=list)  # whom the mediator may invite
    co_mediators: list[tuple[str, list]] = field(default_factory=list)  # by unit, to name one
    submissions: list[dict] = field(default_factory=list)  # what the citizen said again, newest first
    submission_count: int = 0


@dataclass
class TaskPage:
    """The guided step page of one ready task."""

    case_no: str
    task: TaskView
    summary: dict
    documents: list[dict]
    next_steps: list[dict]
    claimed_by_me: bool = False
    claimable: bool = False
    vulnerable: list[str] = field(default_factory=list)  # the banner: call, do not text
    known: dict[str, Any] = field(default_factory=dict)   # what the form starts from
    co_feedback: list[dict] = field(default_factory=list)  # the lead's consolidation: co-units
    unit_names: dict[str, str] = field(default_factory=dict)  # unit codes in the task data
    starts_later: str = ""   # attendance: the session's start in words while it lies ahead


def case_page(uow: UnitOfWork, actor: Actor, case_no: str) -> CasePage:
    """The case as this actor may see it; a view of (masked) party data is audited."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), uow:
        case = load_case(uow, actor, case_no)
        access = case_access(uow.session, actor, case)
        page = CasePage(case_summary(uow.session, case), access,
                        has_process=case.workflow_instance_id is not None)
        if access.parties:
            page.parties = [PartyVault.view(party, link.role)
                            for link, party in case_parties(uow.session, case)]
        page.has_narrative = bool(case.narrative_enc)
        page.work_orders = _visible_texts(work_orders(uow.session, case, uow.clock.now()),
                                          access, actor)
        page.documents = list_documents(uow.session, case) if access.free_text else []
        if access.free_text:
            page.submissions, page.submission_count = later_submissions(uow.session, case)
        page.timeline = timeline(uow, case) if access.parties else []
        page.tasks = _tasks(uow, actor, case)
        inst = read_instance(uow, case)
        page.deadlines = deadline_panel(uow, actor, case, inst)
        page.record_performance = (access.free_text and actor.has(RoleCode.MEDIATOR)
                                   and waiting_for_performance(inst))
        page.notifications = notifications(uow.session, case)
        page.vulnerable = vulnerable_kinds(uow.session, case)
        page.warnings = case_warnings(uow.session, uow.services.settings, case, actor)
        if access.free_text:
            page.sessions = case_sessions(uow, case)
            page.manage_sessions = may_manage(actor, case)
            if page.manage_sessions:
                page.expert_pool = invitable_experts(uow)
            if page.manage_sessions and any(s["status"] == "booked" for s in page.sessions):
                page.co_mediators = mediator_groups(uow, actor, case)
        if page.parties:
            # the access event: what was shown (masked), why (the case page) and by which rule
            uow.audit.record(AuditAction.PARTY_VIEWED, actor, case=case, object_type="case",
                             object_id=case.case_no, parties=[p["id"] for p in page.parties],
                             masked=True, narrative=False, purpose="case_page", decision="allow",
                             rule="view_parties.co_department" if access.co_only
                             else "view_parties.scope",
                             ip=actor.ip, session_hash=actor.session_hash)
            uow.commit()
        return page


def _visible_texts(orders: list[dict], access: CaseAccess, actor: Actor) -> list[dict]:
    """Order results and return reasons are free text: a co-department reads its own
    orders' texts only."""
    if access.free_text:
        return orders
    return [o if access.parties and o["department_code"] == actor.department_code
            else {**o, "result_summary": None, "return_reason": None} for o in orders]


def reveal_narrative(uow: UnitOfWork, actor: Actor, case_no: str, purpose: str, *,
                     reason: str = "") -> str:
    """The complaint narrative for a stated purpose: the same rule as a
    party's data (UNMASK_PARTY on this case); ``narrative_unmasked`` is committed before the
    text is returned (fail closed), and the page shows it masked again on reload."""
    if purpose not in PURPOSES:
        raise InvalidInput({"purpose": FieldError(ErrorCode.CHOOSE_PURPOSE)})
    pii_text.refuse(reason=reason)
    with denials_audited(uow.services, actor, object_type="narrative", object_id=case_no), uow:
        case = load_case(uow, actor, case_no)
        require(actor, Permission.UNMASK_PARTY, case, session=uow.session)
        text = decrypt_narrative(uow.services, case)
        uow.audit.record(AuditAction.NARRATIVE_UNMASKED, actor, case=case, object_type="case",
                         object_id=case.case_no, purpose=purpose, reason=reason[:200],
                         decision="allow", rule="unmask_party.scope", ip=actor.ip,
                         session_hash=actor.session_hash)
        uow.commit()
    return text


def work_orders(session: Session, case: Case, now: datetime) -> list[dict]:
    """Every work order of the case, latest round first, with department and timeliness."""
    rows = session.execute(select(WorkOrder, Department.name, Department.code)
                           .join(Department, Department.id == WorkOrder.department_id)
                           .where(WorkOrder.case_id == case.id)
                           .order_by(WorkOrder.round.desc(), WorkOrder.role.desc(), WorkOrder.id))
    steps = {t.task_id: (t.ready_at, t.due_at) for t in session.scalars(
        select(OpenTask).where(OpenTask.case_id == case.id))}
    return [{"id": o.id, "department": name, "department_code": code, "round": o.round,
             "role": o.role, "status": o.status, "dispatched_at": o.dispatched_at,
             "accepted_at": o.accepted_at, "due_at": o.due_at, "completed_at": o.completed_at,
             "result_summary": o.result_summary, "return_reason": o.return_reason,
             # an open order's light is its current step's deadline light, computed as the 时限
             # table computes it (same start, due time and stored light), so the two agree; a
             # finished order shows the light it ended with
             "light": timeliness(*steps.get(o.task_id or "", (o.accepted_at or o.dispatched_at,
                                                              o.due_at)), now, o.light)
             if o.status in OPEN_ORDERS else o.light,
             "task_id": o.task_id} for o, name, code in rows]


def notifications(session: Session, case: Case) -> list[dict]:
    """The case's outbox messages with their delivery state; the recipient by kind only (never
    the address) and no error text (a gateway's answer may quote the number)."""
    return [{key: message[key] for key in ("id", "created_at", "template", "channel",
                                           "recipient_type", "status", "attempts", "sent_at")}
            for message in delivery_state(session, case.id)]


def timeline(uow: UnitOfWork, case: Case, limit: int = 300) -> list[dict]:
    """People-level events of the case chain (engine bookkeeping left out), oldest first."""
    rows = list(uow.session.scalars(
        select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}",
                                 AuditEvent.action.not_in(PAGE_HIDDEN))
        .order_by(AuditEvent.seq).limit(limit)))
    names = _actor_names(uow, rows)
    out = []
    for row in rows:
        payload = {k: v for k, v in json.loads(row.payload or "{}").items() if k not in HIDDEN_KEYS}
        action = _action(row, payload)
        out.append({"seq": row.seq, "action": action, "at": row.occurred_at,
                    "actor": names.get(row.actor_id or ""), "actor_type": row.actor_type,
                    "name_kind": "message" if action == "message_received" else "",
                    "role": row.actor_role, "name": payload.get("name") or payload.get("title"),
                    "detail": _detail(action, payload), "arrow": action in ARROW})
    return out


# action -> payload keys shown, each with the label table of its values (personal-data-free by
# construction); "arrow" actions show a change from one value to the next
DETAILS: dict[str, tuple[tuple[str, str], ...]] = {
    "work_order_changed": (("before", "wo_status"), ("after", "wo_status")),
    "party_unmasked": (("purpose", "purpose"),),
    "narrative_unmasked": (("purpose", "purpose"),),
    "case_reopened": (("reason", "linked_as"), ("channel", "channel")),
    "submission_linked": (("linked_as", "linked_as"), ("linked_by", "linked_by"),
                          ("channel", "channel")),
    "timer_fired": (("timer", ""),),
    "risk_changed": (("before", "risk"), ("after", "risk")),
    "satisfaction_recorded": (("rating", "satisfaction"),)}
ARROW = ("work_order_changed", "risk_changed")


def _detail(action: str, payload: dict) -> list[tuple[str, str]]:
    """A short description from the event payload: (label table, value) pairs for the template."""
    return [(kind, str(payload[key])) for key, kind in DETAILS.get(action, ())
            if payload.get(key) is not None]


def _tasks(uow: UnitOfWork, actor: Actor, case: Case) -> list[dict]:
    """Open tasks with the unit each belongs to (six co-units' sign-offs are six named rows)."""
    rows = uow.session.execute(
        select(OpenTask, Department.name).outerjoin(Department,
                                                    Department.id == OpenTask.department_id)
        .where(OpenTask.case_id == case.id)
        .order_by(OpenTask.due_at.is_(None), OpenTask.due_at, Department.name, OpenTask.id))
    out = []
    for row, unit in rows:
        try:
            require_task(actor, row, case)
            can_act = True
        except NotPermitted:
            can_act = False
        out.append({"task_id": row.task_id, "bpmn_id": row.bpmn_id, "name": row.name,
                    "unit": unit, "role": row.role, "due_at": row.due_at, "can_act": can_act,
                    "claimed": row.claimed_by is not None})
    return out


# case_updated events that say more under their own name on the page
CHANGES = {"document_generated": "document_generated", "document_issued": "document_issued",
           "satisfaction_recorded": "satisfaction_recorded",
           "performance_recorded": "performance_recorded", "summary_corrected": "summary_corrected"}


def _action(row: AuditEvent, payload: dict) -> str:
    return CHANGES.get(payload.get("change") or "", row.action) if row.action == "case_updated" \
        else row.action


# -- the guided step page -----------------------------------------------------------------------
def task_page(uow: UnitOfWork, actor: Actor, case_no: str, task_id: str) -> TaskPage:
    """A ready task the actor may act on, with what they need to do it well."""
    with denials_audited(uow.services, actor, object_type="task", object_id=task_id), uow:
        case = load_case(uow, actor, case_no)
        inst = uow.load_instance(case.workflow_instance_id)
        try:
            inst.ready_task(task_id)
        except TaskNotFound:
            raise NotFound(ErrorCode.TASK_NOT_FOUND) from None
        except TaskNotReady as exc:
            raise TaskNoLongerAvailable(exc.bpmn_id, exc.state) from None
        view = next(t for t in inst.ready_tasks() if t.id == str(task_id))
        row = uow.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id,
                                                         OpenTask.task_id == view.id)).first()
        if row is None:
            raise TaskNoLongerAvailable(view.bpmn_id, "not open")
        require_task(actor, row, case)
        files = _version_files(uow, case)
        documents = list_documents(uow.session, case)
        if not case_access(uow.session, actor, case).free_text:
            # a co-department reads what its own people wrote, as on the case page
            documents = [d for d in documents if d["unit_code"] == actor.department_code]
        return TaskPage(case.case_no, view, case_summary(uow.session, case), documents,
                        next_steps(files, view.process_id, view.bpmn_id),
                        claimed_by_me=row.claimed_by is not None,
                        claimable=row.claimed_by is None and row.assignee_id is None,
                        vulnerable=vulnerable_kinds(uow.session, case), known=known_values(
                            view, case, ZoneInfo(uow.services.settings.timezone)),
                        co_feedback=co_feedback(uow.session, case, documents, uow.clock.now())
                        if view.bpmn_id in CONSOLIDATION_TASKS else [],
                        unit_names=case_unit_names(uow.session, view.data,
                                                   case.place_path),
                        starts_later=_starts_later(uow, case, view))


def _starts_later(uow: UnitOfWork, case: Case, view: TaskView) -> str:
    """For the attendance step: when its session begins, in words, while that lies ahead."""
    if view.bpmn_id not in ATTENDANCE_TASKS:
        return ""
    try:
        row = booking.booked_session(uow, case, view.data.get(SESSION_KEY))
    except InvalidInput:
        return ""
    return "" if booking.has_started(uow, row) else booking.when_text(row.starts_at)


def co_feedback(session: Session, case: Case, documents: list[dict],
                now: datetime) -> list[dict]:
    """Every co-unit of the latest joint round by name, with its decision, its result or return
    reason and the documents its people wrote — read from the work orders, so the pairing never
    depends on the order in which the co-units answered."""
    co_orders = [o for o in work_orders(session, case, now) if o["role"] == "co"]
    if not co_orders:
        return []
    latest = max(o["round"] for o in co_orders)
    rows = sorted((o for o in co_orders if o["round"] == latest),
                  key=lambda o: (o["department"], o["id"]))
    return [{**o, "documents": [d for d in documents if d["unit_code"] == o["department_code"]]}
            for o in rows]


def known_values(view: TaskView, case: Case, zone: tzinfo | None = None) -> dict[str, Any]:
    """A form starts from what the case already knows: a field named like a process variable
    holding a plain value (category, urgency...) or like a case field typed at intake that this
    step corrects (登记核对's summary) shows that value; a choice of several starts from the list the process holds
    (triage: the co-units the routing table suggests); a day the case knows (``KNOWN_DAYS``)
    its local date in ``zone``; a field the process data does not hold yet starts from what the
    case's path implies (提交办结报告: an agreement performed -> 协议化解)."""
    names = (*CORRECTED_CASE_FIELDS.get(view.bpmn_id, ()), *CASE_KNOWN)
    known = {name: getattr(case, name) for name in names}
    for name, column in KNOWN_DAYS.items():
        moment = getattr(case, column)
        if zone is not None and moment is not None:
            known[name] = moment.astimezone(zone).date().isoformat()
    known.update(view.data)
    for name, implied in IMPLIED_VALUES.items():
        if known.get(name) in (None, ""):
            known[name] = implied(view.data)
    return {f.id: known[f.id] for f in view.form
            if isinstance(known.get(f.id), str | int | float | bool) and known[f.id] != ""
            or f.type == "enums" and isinstance(known.get(f.id), list)}


# case fields any step may ask to confirm, written back from the process data
# (contract.CASE_FIELDS); a step's own corrected case fields (contract.CORRECTED_CASE_FIELDS: the
# summary at 登记核对) are written back by that step alone (task_effects), so only it shows them
CASE_KNOWN = ("category", "urgency", "people_count")
# days a step asks that the case knows: form field -> the case's moment (the petition path's
# 收到信访事项日期 is when the channel received the matter, the intake's 来件时间)
KNOWN_DAYS = {"petition_received_on": "opened_at"}


def _version_files(uow: UnitOfWork, case: Case) -> dict[str, str]:
    row = uow.session.get(InstanceRow, case.workflow_instance_id)
    version = uow.session.get(ProcessVersion, row.process_version_id) if row else None
    return dict(version.source_files) if version else {}


def process_words(uow: UnitOfWork, case_no: str | None) -> tuple[dict[str, str], dict[str, dict[str, str]],
                                                        dict[str, tuple[str, str]]]:
    """The words of the process version a case runs — (field labels, {field: {option id: option
    name}}, {element id: (name, kind)}) — for a page that shows a refused submission back in words. The
    process's own words only, no case content: no policy check. No case: the product's words for
    the data it writes itself (contract.DATA_WORDS)."""
    files: dict[str, str] = {}
    if case_no:
        with uow:
            case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).first()
            if case is not None and case.workflow_instance_id:
                files = _version_files(uow, case)
    labels, options = field_words(files)
    return labels, options, element_names(files)


# -- the process diagram ------------------------------------------------------------------------
def case_diagram(uow: UnitOfWork, actor: Actor, case_no: str,
                 process_id: str | None = None) -> tuple:
    """(BPMN XML of the case's version, {completed, current, process_id}) for bpmn-js."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), uow:
        case = load_case(uow, actor, case_no)
        if case.workflow_instance_id is None:
            raise NotFound(ErrorCode.CASE_WITHOUT_PROCESS, case_no=case_no)
        row = uow.session.get(InstanceRow, case.workflow_instance_id)
        assert row is not None, "a case's instance row is never deleted"
        shown = process_id or row.process_id
        xml = process_source(_version_files(uow, case), shown)
        if xml is None:
            raise NotFound(ErrorCode.PROCESS_NOT_IN_VERSION, process=shown)
        states = uow.load_instance(case.workflow_instance_id).element_states()
        state = states.get(shown, {"completed": [], "current": []})
        return xml, {"completed": state["completed"], "current": state["current"],
                     "process_id": shown, "processes": sorted(states)}


def may_view(uow: UnitOfWork, actor: Actor, case_no: str) -> bool:
    """Whether the case page would open for this actor (where to land after a submit)."""
    with uow:
        case = find_case(uow.session, case_no)
        return case_access(uow.session, actor, case).visible


def receipt_brief(uow: UnitOfWork, actor: Actor, case_no: str,
                  submission_id: int | None = None) -> dict:
    """The receipt's (回执) summary of the case, with ``kind`` (new | duplicate |
    second_complaint). A submission linked to the case (a duplicate, a second complaint) is
    received by its own channel at its own time: with ``submission_id`` the receipt names that
    submission's, which must be one of this case's (NotFound otherwise); without it, the case's
    own first registration."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), uow:
        case = load_case(uow, actor, case_no)
        summary = case_summary(uow.session, case)
        summary["kind"] = SubmissionLink.NEW
        if submission_id is None:
            return summary
        row = uow.session.execute(
            select(Submission.channel, Submission.received_at, Submission.linked_as)
            .where(Submission.id == submission_id, Submission.case_id == case.id)).first()
        if row is None:
            raise NotFound(ErrorCode.SUBMISSION_NOT_FOUND, case_no=case_no)
        summary["kind"] = row.linked_as
        if row.linked_as != SubmissionLink.NEW:
            summary.update(channel=row.channel, opened_at=row.received_at)
        return summary


def case_brief(uow: UnitOfWork, actor: Actor, case_no: str) -> dict:
    """The personal-data-free summary of one case (receipt, satisfaction and dispatch headers)."""
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), uow:
        case = load_case(uow, actor, case_no)
        summary = case_summary(uow.session, case)
        summary["work_orders"] = _visible_texts(work_orders(uow.session, case, uow.clock.now()),
                                                case_access(uow.session, actor, case), actor)
        summary["tasks"] = _tasks(uow, actor, case)
        return summary
