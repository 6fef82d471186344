"""Events from outside a task form, delivered to the process as BPMN messages.

* ``record_rating``: the citizen's satisfaction from the SMS link / APP (message ``rating``);
  the phone return visit is the ``return_visit`` user task instead.
* ``report_risk``: risk rising during handling (message ``risk_raised``), e.g. a planned gathering.
* ``record_performance``: the mediator records that the agreement was paid / performed before its
  period ran out (message ``performed``); the case moves on at once and the period's timer is
  cancelled with the wait it guarded.
"""

from __future__ import annotations

from typing import Any

from engine.errors import MessageNotExpected
from engine.instance import WorkflowInstance
from workflows.access.policy import Permission, denials_audited, require
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.cases.lookup import load_case
from workflows.casework.incidents import step_failures
from workflows.casework.steps import after_step, fire_timers_recorded
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import (
    ErrorCode,
    FieldCode,
    FieldError,
    InvalidInput,
    TaskNoLongerAvailable,
)
from workflows.library import contract
from workflows.models import Case
from workflows.runtime.unit_of_work import UnitOfWork

RISK_LEVELS = ("blue", "yellow", "orange", "red")


def record_rating(uow: UnitOfWork, actor: Actor, *, case_no: str, rating: str,
                  comment: str = "") -> str:
    """Record the citizen's rating; 'dissatisfied' leads the process to verification and re-handling.

    Returns the case status afterwards. TaskNoLongerAvailable if the case is not waiting for a
    rating (already rated, or the window passed and a return visit was opened instead).
    """
    if rating not in contract.RATINGS or rating == "unrated":
        raise InvalidInput({"rating": FieldError(ErrorCode.CHOOSE_RATING)})
    if len(comment) > 1000:
        raise InvalidInput({"comment": FieldError(FieldCode.TOO_LONG, {"limit": 1000})})
    pii_text.refuse(comment=comment)
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), \
            step_failures(uow.services, actor, case_no, message=contract.MSG_RATING):
        with uow:
            case = load_case(uow, actor, case_no)
            require(actor, Permission.RECORD_RATING, case, session=uow.session)
            _deliver(uow, actor, case, contract.MSG_RATING, rating)
            case.satisfaction = rating
            uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type="case",
                             object_id=case.case_no, change="satisfaction_recorded",
                             rating=rating, comment=comment.strip(), source=actor.type)
            uow.commit()
            return case.status


def report_risk(uow: UnitOfWork, actor: Actor, *, case_no: str, level: str, reason: str) -> str:
    """Report rising risk during handling; the process recolours and escalates. Returns status."""
    errors = {}
    if level not in RISK_LEVELS:
        errors["level"] = FieldError(FieldCode.NOT_AN_OPTION)
    if not reason.strip():
        errors["reason"] = FieldError(FieldCode.REQUIRED)
    errors.update(pii_text.field_errors({"reason": reason}))
    if errors:
        raise InvalidInput(errors)
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), \
            step_failures(uow.services, actor, case_no, message=contract.MSG_RISK):
        with uow:
            case = load_case(uow, actor, case_no)
            require(actor, Permission.REPORT_RISK, case, session=uow.session)
            _deliver(uow, actor, case, contract.MSG_RISK, {"level": level, "reason": reason.strip()})
            uow.audit.record(AuditAction.RISK_CHANGED, actor, case=case, object_type="case",
                             object_id=case.case_no, reported=level, reason=reason.strip(),
                             trigger="reported", after=case.risk_level)
            uow.commit()
            return case.status


PERFORMANCE_NOTE = 200


def record_performance(uow: UnitOfWork, actor: Actor, *, case_no: str, note: str = "") -> str:
    """Record that the parties performed the agreement early; returns the case status after.

    TaskNoLongerAvailable when the case is not waiting for performance (recorded already, or
    the period ran out first: the return visit is then a task)."""
    note = note.strip()
    if len(note) > PERFORMANCE_NOTE:
        raise InvalidInput({"note": FieldError(FieldCode.TOO_LONG, {"limit": PERFORMANCE_NOTE})})
    pii_text.refuse(note=note)
    with denials_audited(uow.services, actor, object_type="case", object_id=case_no), \
            step_failures(uow.services, actor, case_no, message=contract.MSG_PERFORMED):
        with uow:
            case = load_case(uow, actor, case_no)
            require(actor, Permission.RECORD_PERFORMANCE, case, session=uow.session)
            _deliver(uow, actor, case, contract.MSG_PERFORMED, contract.PERFORMED_PAID)
            uow.audit.record(AuditAction.CASE_UPDATED, actor, case=case, object_type="case",
                             object_id=case.case_no, change="performance_recorded", note=note)
            uow.commit()
            return case.status


def waiting_for_performance(inst: WorkflowInstance | None) -> bool:
    """Whether the case's process waits for an agreement to be performed (the button shows)."""
    return inst is not None and contract.MSG_PERFORMED in inst.waiting_messages()


def _deliver(uow: UnitOfWork, actor: Actor, case: Case, message: str, payload: Any) -> None:
    inst = uow.load_instance(case.workflow_instance_id)
    fire_timers_recorded(uow, actor, case, inst)       # a passed deadline wins
    with uow.recording(inst, actor, case=case):
        try:
            inst.deliver_message(message, payload)
        except MessageNotExpected:
            raise TaskNoLongerAvailable(message, "not waiting") from None
    record_input(uow, AuditAction.MESSAGE_RECEIVED, actor, case, inst, object_type="instance",
                 object_id=case.workflow_instance_id, name=message, payload=payload)
    after_step(uow, case, inst)
