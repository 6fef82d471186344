"""Second complaint (二次投诉): a closed case is reopened through its process's reopen message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import MessageNotExpected
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.casework.steps import after_step, fire_timers_recorded
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.library import contract
from workflows.models import Case, CaseStatus
from workflows.notify.case_notices import notify_applicants

if TYPE_CHECKING:
    from workflows.intake.register import IntakeRequest
    from workflows.runtime.unit_of_work import UnitOfWork


def reopen_case(uow: UnitOfWork, actor: Actor, case: Case, request: IntakeRequest | None = None, *,
                channel: str | None = None, linked_case_no: str | None = None) -> Case:
    """Second complaint: deliver the reopen message to the closed case's instance."""
    channel = request.channel if request is not None else channel
    inst = uow.load_instance(case.workflow_instance_id)
    fire_timers_recorded(uow, actor, case, inst)      # a watch window that just ended wins
    payload = {"channel": channel, "received_at": uow.clock.now().isoformat(),
               "second_complaint": True, "linked_case_no": linked_case_no}
    with uow.recording(inst, actor, case=case):
        try:
            inst.deliver_message(contract.MSG_REOPEN, payload)
        except MessageNotExpected:
            raise InvalidInput({"case": FieldError(ErrorCode.CASE_ARCHIVED)}) from None
        inst.set_data(second_complaint=True)
    case.second_complaint = True
    case.reopened_count = (case.reopened_count or 0) + 1
    case.tier = "district"
    record_input(uow, AuditAction.MESSAGE_RECEIVED, actor, case, inst, object_type="instance",
                 object_id=case.workflow_instance_id, name=contract.MSG_REOPEN, payload=payload,
                 set_data={"second_complaint": True})
    after_step(uow, case, inst)
    if case.status != CaseStatus.DISPATCHED:   # shown as 重新办理 until the next step
        case.status = CaseStatus.REOPENED
    uow.audit.record(AuditAction.CASE_REOPENED, actor, case=case, object_type="case",
                     object_id=case.case_no, reason="second_complaint", channel=channel,
                     reopened_count=case.reopened_count, linked_case_no=linked_case_no)
    notify_applicants(uow, case, "case_reopened")
    return case
