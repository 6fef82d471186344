"""Task completion through one service, plus claim and release of group tasks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update

from engine.errors import EngineStepFailed, TaskNotFound, TaskNotReady
from engine.forms import FormInvalid, validate_submission
from engine.instance import TaskView, WorkflowInstance
from workflows.access.policy import (
    Denied,
    Permission,
    denials_audited,
    note_worked,
    require_task,
    user_id,
    worked_on,
)
from workflows.attachments.store import add_attachment, check_files
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.cases import task_lookup
from workflows.cases.lookup import load_case, load_task_case
from workflows.casework import task_effects
from workflows.casework.incidents import step_failures
from workflows.casework.projection import lane_roles, open_rows, task_facts
from workflows.casework.steps import after_step, fire_timers_changed
from workflows.core import pii_text
from workflows.core.actors import SCHEDULER, Actor
from workflows.core.dates import past_day_error, plan_day_error
from workflows.core.errors import (
    ErrorCode,
    FieldError,
    InvalidInput,
    NotFound,
    TaskNoLongerAvailable,
)
from workflows.core.settings import Settings
from workflows.district.units import UnitResolver
from workflows.library import contract
from workflows.models import Case, CaseParticipant, OpenTask
from workflows.runtime.unit_of_work import UnitOfWork

TEXT = ("string", "textarea")  # form field types a handler types free text into


@dataclass
class TaskResult:
    """What a completion did: the case's new status and the tasks that are now open."""

    case_no: str
    task_id: str
    bpmn_id: str
    name: str
    status: str
    next_tasks: list[dict] = field(default_factory=list)


def complete_task(uow: UnitOfWork, actor: Actor, *, case_no: str, task_id: str,
                  raw: dict[str, Any], files: Sequence[tuple[str, bytes]] = ()) -> TaskResult:
    """Check, validate, complete and advance one user task; commit everything together.

    ``files`` ((name, bytes) from the form's file field) are checked with the form: one refused
    file refuses the whole step, and the kept ones are attached to the case in the same commit.

    The caller's right to complete this task is established before anything changes: only then
    do due timers fire (a passed deadline wins), in their own step recorded as the scheduler's.
    Raises NotFound, Denied (audited, nothing fired), InvalidInput(field_errors),
    TaskNoLongerAvailable (after committing the effects of deadlines that passed meanwhile),
    ConcurrentUpdate, or ProcessIncident (the step failed: rolled back, then the instance set to
    'incident' and the supervisors notified).
    """
    with denials_audited(uow.services, actor, task_id=task_id), \
            step_failures(uow.services, actor, case_no, task_id=task_id):
        with uow:
            case = load_case(uow, actor, case_no, with_instance=True)
            return _complete(uow, actor, case, task_id, raw, files)


def complete_open_task(uow: UnitOfWork, actor: Actor, *, task_id: str, raw: dict[str, Any],
                       files: Sequence[tuple[str, bytes]] = ()) -> TaskResult:
    """``complete_task`` for a caller who knows only the task id (the API): the open task's case
    is found in the step's own read of the case. A task no longer open raises
    TaskNoLongerAvailable (after the policy check on its case), an id no case had NotFound
    (``task_lookup.case_no_of_task``)."""
    case_no = ""   # known once the case is read: a step can only fail after that
    try:
        with denials_audited(uow.services, actor, task_id=task_id):
            with uow:
                case = load_task_case(uow, actor, task_id, with_instance=True)
                if case is not None:
                    case_no = case.case_no
                    return _complete(uow, actor, case, task_id, raw, files)
    except EngineStepFailed:
        with step_failures(uow.services, actor, case_no, task_id=task_id):
            raise
    # not open (any more): why not, or its case if it opened meanwhile
    case_no = task_lookup.case_no_of_task(uow, actor, task_id)
    return complete_task(uow, actor, case_no=case_no, task_id=task_id, raw=raw, files=files)


def _complete(uow: UnitOfWork, actor: Actor, case: Case, task_id: str, raw: dict[str, Any],
              files: Sequence[tuple[str, bytes]]) -> TaskResult:
    """The step inside the caller's ``with uow:``, its case read under the policy."""
    inst = uow.load_instance(case.workflow_instance_id)
    before_ids = set(_ids(inst))
    view = _ready(inst, task_id)
    if view is None:
        raise TaskNoLongerAvailable(_gone_state(inst, task_id), "no longer ready")
    require_task(actor, _task_facts(uow, case, view), case)
    if fire_timers_changed(uow, SCHEDULER, case, inst):
        view = _ready(inst, task_id)
        if view is None:
            after_step(uow, case, inst)    # keep what the deadlines did
            uow.commit()
            raise TaskNoLongerAvailable(_gone_state(inst, task_id), "no longer ready")
        require_task(actor, _task_facts(uow, case, view), case)
    with uow.recording(inst, actor, case=case):
        clean, checked = _validate_with_files(view, raw, files, uow)
        task_effects.before_complete(uow, actor, case, view, clean)
        inst.complete(view.id, clean)
    # the step's input event first: data a hook writes afterwards (write_data) follows it
    record_input(uow, AuditAction.TASK_COMPLETED, actor, case, inst, object_type="task",
                 object_id=view.id, bpmn_id=view.bpmn_id,
                 instance_index=view.instance_index, process_id=view.process_id,
                 dept=view.data.get("dept"), name=view.name, task_name=view.name,
                 lane=view.lane, submitted=clean)
    for checked_file in checked:
        add_attachment(uow, actor, case, checked_file, task_id=view.id)
    task_effects.after_complete(uow, actor, case, view, clean, inst)
    after_step(uow, case, inst)
    _note_participant(uow, actor, case)
    uow.commit()
    return TaskResult(case.case_no, view.id, view.bpmn_id, view.name, case.status,
                      [_brief(t) for t in inst.ready_tasks() if t.id not in before_ids])


def _validate_with_files(view: TaskView, raw: dict[str, Any],
                         files: Sequence[tuple[str, bytes]], uow: UnitOfWork):
    """The cleaned form and the checked files, or every field error of both at once."""
    errors: dict[str, FieldError] = {}
    checked = []
    try:
        checked = check_files(files, uow.services.settings.attachment_max_bytes)
    except InvalidInput as exc:
        errors.update(exc.field_errors)
    try:
        clean = validate(view, raw, now=uow.clock.now(), settings=uow.services.settings)
    except InvalidInput as exc:
        raise InvalidInput({**exc.field_errors, **errors}) from None
    if errors:
        raise InvalidInput(errors)
    return clean, checked


def _note_participant(uow: UnitOfWork, actor: Actor, case: Case) -> None:
    """Remember that this user worked on the case: they keep read access to it."""
    uid = user_id(actor)
    if uid is None:
        return
    known = worked_on(uow.session, actor, case)
    if known is None:   # not read with the case
        known = uow.session.scalar(select(CaseParticipant.id).where(
            CaseParticipant.case_id == case.id, CaseParticipant.user_id == uid)) is not None
    if not known:
        uow.session.add(CaseParticipant(case_id=case.id, user_id=uid, first_at=uow.clock.now()))
        note_worked(uow.session, actor, case)


def validate(view: TaskView, raw: dict[str, Any], *, now: datetime | None = None,
             settings: Settings | None = None) -> dict[str, Any]:
    """Form data cleaned against the task's BPMN form fields; InvalidInput on any field error,
    personal data in a text field included (it belongs in the party fields), and (given the
    time and settings) a date outside floor .. today (workflows/core/dates.py)."""
    personal = pii_text.field_errors(raw or {}, [f.id for f in view.form if f.type in TEXT])
    try:
        clean = validate_submission(view.form, raw or {})
    except FormInvalid as exc:
        raise InvalidInput({**exc.errors, **personal}) from None
    if personal:
        raise InvalidInput(personal)
    if now is not None and settings is not None:
        wrong = {f.id: error for f in view.form if f.type == "date" and clean.get(f.id)
                 for error in [_day_error(f.id, date.fromisoformat(clean[f.id]), now, settings)]
                 if error is not None}
        if wrong:
            raise InvalidInput(wrong)
    return clean


def _day_error(field: str, day: date, now: datetime, settings: Settings) -> FieldError | None:
    """A date that plans ahead (a session's day) is bounded like a calendar day, any other
    like something that happened."""
    if field in contract.PLAN_DATE_FIELDS:
        return plan_day_error(day, now, settings)
    return past_day_error(day, now, settings)


def _ready(inst: WorkflowInstance, task_id: str) -> TaskView | None:
    """The ready task's view; None when it exists but is no longer ready; NotFound otherwise."""
    try:
        return inst.ready_view(task_id)
    except TaskNotFound:
        raise NotFound(ErrorCode.TASK_NOT_FOUND) from None
    except TaskNotReady:
        return None


def _gone_state(inst: WorkflowInstance, task_id: str) -> str:
    try:
        inst.ready_task(task_id)
    except TaskNotReady as exc:
        return exc.bpmn_id
    except TaskNotFound:
        return ""
    return ""


def _task_facts(uow: UnitOfWork, case: Case, view: TaskView) -> OpenTask:
    """The open-task row of a ready task, or the same facts computed from the live instance."""
    row = open_rows(uow.session, case).get(view.id)
    if row is not None:
        return row
    return OpenTask(task_id=view.id, **task_facts(view, lane_roles(uow.session),
                                                  UnitResolver.cached(uow.session, case.place_path), case))


def _ids(inst: WorkflowInstance) -> list[str]:
    return [t.id for t in inst.ready_tasks()]


def _brief(task: TaskView) -> dict:
    return {"task_id": task.id, "bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane,
            "due_at": task.due_at.isoformat() if task.due_at else None}


# -- claim and release ------------------------------------------------------------------------------
def claim_task(uow: UnitOfWork, actor: Actor, *, case_no: str, task_id: str) -> None:
    """Take a group task so colleagues see it is being handled; one claimer wins."""
    with denials_audited(uow.services, actor, task_id=task_id):
        with uow:
            case = load_case(uow, actor, case_no)
            row = _open_row(uow, case, task_id)
            require_task(actor, row, case, permission=Permission.CLAIM_TASK)
            uid = user_id(actor)
            if row.claimed_by == uid:
                return
            result = uow.session.execute(
                # the task id too: a step may have handed a closed task's row to a new task
                update(OpenTask).where(OpenTask.id == row.id, OpenTask.task_id == row.task_id,
                                       OpenTask.claimed_by.is_(None))
                .values(claimed_by=uid).execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
                raise TaskNoLongerAvailable(row.bpmn_id, "claimed")
            uow.audit.record(AuditAction.TASK_CLAIMED, actor, case=case, object_type="task",
                             object_id=task_id, bpmn_id=row.bpmn_id)
            uow.commit()


def release_task(uow: UnitOfWork, actor: Actor, *, case_no: str, task_id: str) -> None:
    """Give a claimed task back to the group (the claimer, or a supervisor)."""
    with denials_audited(uow.services, actor, task_id=task_id):
        with uow:
            case = load_case(uow, actor, case_no)
            row = _open_row(uow, case, task_id)
            uid = user_id(actor)
            if row.claimed_by is None:
                return
            if row.claimed_by != uid and not actor.has("supervisor"):
                raise Denied(ErrorCode.RELEASE_OWN_TASK, "release_task.not_claimer",
                             case_id=case.id, object_type="task", object_id=task_id)
            result = uow.session.execute(   # this task's claim only (a step may hand its row on)
                update(OpenTask).where(OpenTask.id == row.id, OpenTask.task_id == row.task_id)
                .values(claimed_by=None).execution_options(synchronize_session=False))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # the task closed meanwhile
                raise TaskNoLongerAvailable(row.bpmn_id, "not open")
            uow.audit.record(AuditAction.TASK_RELEASED, actor, case=case, object_type="task",
                             object_id=task_id, bpmn_id=row.bpmn_id)
            uow.commit()


def _open_row(uow: UnitOfWork, case: Case, task_id: str) -> OpenTask:
    row = uow.session.scalars(select(OpenTask).where(OpenTask.case_id == case.id,
                                                     OpenTask.task_id == str(task_id))).first()
    if row is None:
        raise TaskNoLongerAvailable("", "not open")
    return row
