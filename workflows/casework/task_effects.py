"""Domain effects of completing particular tasks: work-order status, documents, assignments.

Which tasks have which effect is data in ``workflows.library.contract`` (taken from bpmn/README.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.instance import TaskView, WorkflowInstance
from workflows.audit.log import AuditAction
from workflows.cases import field_limits
from workflows.cases.duplicates import watching
from workflows.cases.lookup import find_case
from workflows.casework.documents import (
    generate_agreement,
    generate_jc_application,
    generate_labour_agreement,
    record_from_task,
)
from workflows.casework.legal_path import enter_path
from workflows.casework.projection import current_order, task_department
from workflows.casework.reopen import reopen_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput
from workflows.district.units import UnitResolver
from workflows.library import contract
from workflows.mediation import booking, mediators
from workflows.models import (
    Case,
    CaseLegalPath,
    CaseStatus,
    Submission,
    User,
    WorkOrderStatus,
)
from workflows.runtime.unit_of_work import UnitOfWork


def before_complete(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView, clean: dict) -> None:
    """Checks that need the database; may normalise ``clean`` (a mediator's username -> id)."""
    key = contract.MEDIATOR_CHOICE.get(view.bpmn_id)
    if key and clean.get(key) not in (None, ""):
        user = _user(uow, clean[key])
        if user is None or not any(g.role.code == "mediator" for g in user.roles):
            raise InvalidInput({key: FieldError(ErrorCode.MEDIATOR_REQUIRED)})
        mediators.require_choosable(uow, actor, case, user, key)
        clean[key] = str(user.id)
    co = clean.get(contract.CO_DEPARTMENTS)
    if isinstance(co, list) and clean.get("department") in co:
        # the lead unit leads: ticking it among the co-units as well does not add an order
        clean[contract.CO_DEPARTMENTS] = [c for c in co if c != clean["department"]]
    rule = contract.DUPLICATE_DECISION.get(view.bpmn_id)
    if rule and clean.get(rule[0]) in ("duplicate", "second_complaint"):
        _check_master(uow, view, clean, *rule)
    field = contract.LEGAL_PATH_DECISIONS.get(view.bpmn_id)
    if field and clean.get(field) is None and any(f.id == field for f in view.form):
        clean[field] = contract.NO_LEGAL_PATH   # not chosen: the route's gateway reads "none"
    _check_corrections(view, clean)
    _check_return(view, clean)
    _check_signatures(view, clean)
    sides = contract.ATTENDANCE_TASKS.get(view.bpmn_id)
    if sides:   # attendance records what happened: refused before the session has begun
        row = booking.booked_session(uow, case, view.data.get(contract.SESSION_KEY))
        booking.require_started(uow, row, field=next(iter(sides.values())))
    if view.bpmn_id in contract.SESSION_BOOKING_TASKS:
        # the room is booked with the step: a refusal (taken, past) keeps the task open
        row = booking.book(uow, actor, case, booking.read_slot(uow, actor, clean), task_id=view.id)
        clean[contract.SESSION_KEY] = row.id


def _check_corrections(view: TaskView, clean: dict) -> None:
    """A corrected case field must fit its column like intake's (one line, its length): the
    form's own limit may be wider, and the process data keeps what the case shows. Personal
    data is looked for again in the text joined (``pii_text.joined``, as intake reads its own): a
    number split over lines passed the form's check and reads as one joined."""
    shown = {f.id for f in view.form}
    values = {name: " ".join(clean[name].split())
              for name in contract.CORRECTED_CASE_FIELDS.get(view.bpmn_id, ())
              if name in shown and isinstance(clean.get(name), str)}
    errors = {**field_limits.text_errors(values, {name: field_limits.MAX_LENGTH[name]
                                                  for name in values}),
              **pii_text.field_errors({name: pii_text.joined(v) for name, v in values.items()})}
    if errors:
        raise InvalidInput(errors)
    clean.update(values)


def _check_return(view: TaskView, clean: dict) -> None:
    """A return without its reason or basis leaves the triage officer nothing to review."""
    fields = contract.RETURN_FIELDS.get(view.bpmn_id)
    if fields and clean.get(fields[0]) == "return":
        missing = {name: FieldError(FieldCode.REQUIRED) for name in fields[1:]
                   if not str(clean.get(name) or "").strip()}
        if missing:
            raise InvalidInput(missing)


def _check_signatures(view: TaskView, clean: dict) -> None:
    """已全部签署 with a signature box unticked would only bring the step back: each box still
    unticked is asked for on the form."""
    rule = contract.SIGNATURE_FIELDS.get(view.bpmn_id)
    if rule and clean.get(rule[0]) == rule[1]:
        missing = {name: FieldError(ErrorCode.TICK_SIGNATURES) for name in rule[2]
                   if clean.get(name) is not True}
        if missing:
            raise InvalidInput(missing)


def _check_master(uow: UnitOfWork, view: TaskView, clean: dict, decision: str, field: str) -> None:
    code = (clean.get(field) or "").strip()
    if code not in (view.data.get("duplicate_candidates") or []):
        raise InvalidInput({field: FieldError(ErrorCode.CHOOSE_CANDIDATE)})
    master = find_case(uow.session, code)
    closed = master.status == CaseStatus.CLOSED
    if clean[decision] == "duplicate" and closed:
        raise InvalidInput({decision: FieldError(ErrorCode.ORIGINAL_CASE_CLOSED)})
    if clean[decision] == "second_complaint" and not (
            closed and watching(uow, master, uow.clock.now())):
        raise InvalidInput({decision: FieldError(ErrorCode.ORIGINAL_CASE_NOT_OBSERVED)})
    clean[field] = code


def after_complete(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView, clean: dict,
                   inst: WorkflowInstance) -> None:
    """Apply the effects of the completed task inside the same unit of work."""
    _work_order(uow, actor, case, view, clean)
    _correct_case(uow, actor, case, view, clean)
    key = contract.MEDIATOR_CHOICE.get(view.bpmn_id)
    if key and clean.get(key):
        case.mediator_id = int(clean[key])
    if view.bpmn_id in contract.AGREEMENT_TASKS and contract.AGREEMENT_TASKS[view.bpmn_id](clean):
        generate_agreement(uow, actor, case, {**view.data, **clean}, task_id=view.id)
    elif view.bpmn_id in contract.LABOUR_AGREEMENT_TASKS:
        generate_labour_agreement(uow, actor, case, {**view.data, **clean}, task_id=view.id)
    elif view.bpmn_id in contract.JC_APPLICATION_TASKS and clean.get("jc_joint_application"):
        generate_jc_application(uow, actor, case, view, {**view.data, **clean})
    elif view.bpmn_id in contract.DOCUMENT_TASKS:
        kind, title = contract.DOCUMENT_TASKS[view.bpmn_id]
        record_from_task(uow, actor, case, view, clean, kind=kind, title=title)
    sides = contract.ATTENDANCE_TASKS.get(view.bpmn_id)
    if sides:
        row = booking.booked_session(uow, case, view.data.get(contract.SESSION_KEY))
        booking.record_attendance(uow, actor, case, row,
                                  {side: clean[key] for side, key in sides.items()})
    field = contract.SATISFACTION_TASKS.get(view.bpmn_id)
    if field and clean.get(field):
        case.satisfaction = clean[field]
    co = clean.get(contract.CO_DEPARTMENTS)
    if isinstance(co, list) and clean.get("department") in co:
        # the lead unit leads: ticking it among the co-units as well does not add an order
        clean[contract.CO_DEPARTMENTS] = [c for c in co if c != clean["department"]]
    rule = contract.DUPLICATE_DECISION.get(view.bpmn_id)
    if rule and clean.get(rule[0]) in ("duplicate", "second_complaint"):
        _link_confirmed(uow, actor, case, clean[rule[0]], find_case(uow.session, clean[rule[1]]))
    _legal_path(uow, actor, case, view, clean)


def _correct_case(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView, clean: dict) -> None:
    """A case field the form showed prefilled and the user changed is the case's now (its search
    terms follow in the same flush: models/cases.py), not only the process data's. The texts go
    under keys of their own, not ``before``/``after``: the case history lets those through for
    codes (cases/timeline.py), and a summary is free text."""
    shown = {f.id for f in view.form}
    for name in contract.CORRECTED_CASE_FIELDS.get(view.bpmn_id, ()):
        value, before = clean.get(name), getattr(case, name)
        if name not in shown or value in (None, "") or value == before:
            continue
        setattr(case, name, value)
        uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type="case",
                         object_id=case.case_no, change=f"{name}_corrected", field=name,
                         old_text=before, new_text=value, task=view.bpmn_id)


def _legal_path(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView,
                clean: dict) -> None:
    """Screening (R4) or a failed mediation (R5) routed the case to a followed statutory
    channel (recorded once per case, audited), or its petition's 复核 was answered."""
    field = contract.LEGAL_PATH_DECISIONS.get(view.bpmn_id)
    path = contract.LEGAL_PATH_ROUTES.get(str(clean.get(field))) if field else None
    if path:
        enter_path(uow, actor, case, path, via=view.bpmn_id,
                   outcome="R4" if field == "statutory_route" else "R5")
    elif view.bpmn_id == contract.PETITION_FINAL_TASK:
        row = uow.session.scalar(select(CaseLegalPath).where(CaseLegalPath.case_id == case.id))
        if row is not None:
            row.final_at = uow.clock.now()


def _link_confirmed(uow: UnitOfWork, actor: Actor, case: Case, decision: str, master: Case) -> None:
    """The clerk confirmed a similar case: link this submission to it (or reopen it)."""
    case.duplicate_of_id = master.id
    case.outcome = "duplicate"
    uow.session.add(Submission(case_id=master.id, channel=case.channel,
                               channel_ref=case.case_no, received_at=case.opened_at,
                               summary=case.summary, linked_as=decision))
    uow.audit.record(AuditAction.SUBMISSION_LINKED, actor, case=master, object_type="case",
                     object_id=master.case_no, linked_as=decision, from_case=case.case_no)
    if decision == "second_complaint":
        reopen_case(uow, actor, master, channel=case.channel, linked_case_no=case.case_no)


def _user(uow: UnitOfWork, value: Any) -> User | None:
    text = str(value).strip()[:64]
    numeric = text.isascii() and text.isdigit() and len(text) <= 12  # '²'.isdigit() is True
    column = User.id if numeric else User.username
    query = select(User).where(column == (int(text) if numeric else text),
                               User.active.is_(True))
    return uow.session.scalars(query).first()


def _work_order(uow: UnitOfWork, actor: Actor, case: Case, view: TaskView, clean: dict) -> None:
    """Sign-off accepts or returns (退单) an order; a result task marks it done."""
    rule = contract.WORK_ORDER_EFFECTS.get(view.bpmn_id)
    if rule is None:
        return
    role, decide = rule
    dept = task_department(view, UnitResolver.cached(uow.session, case.place_path))
    order = current_order(case, dept, role)
    status = decide(clean)
    if order is None or status is None or order.status == status:
        return
    before, now = order.status, uow.clock.now()
    order.status = status
    if status == WorkOrderStatus.ACCEPTED:
        order.accepted_at = now
    elif status == WorkOrderStatus.RETURNED:
        order.return_reason = _first(clean, contract.RETURN_REASON_FIELDS)
    elif status == WorkOrderStatus.DONE:
        order.completed_at = now
        order.result_summary = _first(clean, contract.RESULT_FIELDS)
    uow.audit.record(AuditAction.WORK_ORDER_CHANGED, actor, case=case, object_type="work_order",
                     object_id=order.id, department_id=order.department_id, role=order.role,
                     before=before, after=status, round=order.round, task=view.bpmn_id)


def _first(clean: dict, names: tuple[str, ...]) -> str | None:
    for name in names:
        if clean.get(name):
            return str(clean[name])
    return None
