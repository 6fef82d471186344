"""The data contract between the shipped BPMN library (bpmn/README.md) and the case services.

Everything the services read from or write into workflow data is named here, so a change of the
process library is a change of this one module.
"""

from __future__ import annotations

from typing import Any

from workflows.models import CaseStatus

# Lane names that are not a role's own name (role names 受理员 … and codes map automatically).
LANE_ALIASES: dict[str, str] = {
    "受理": "intake_clerk", "受理窗口": "intake_clerk",
    "分流研判": "triage_officer", "研判": "triage_officer",
    "调解委员会": "mediator", "人民调解委员会": "mediator",
    "承办部门": "dept_handler", "牵头部门": "dept_handler", "协办部门": "dept_handler",
    "办理单位": "dept_handler",
    "督办": "supervisor", "领导小组": "leader", "区领导": "leader",
}

# Task data keys naming the department a task belongs to: the multi-instance item first.
TASK_DEPARTMENT_KEYS = ("dept", "department")
# Task data keys naming the user a task is assigned to, per lane ("*": any lane).
ASSIGNEE_KEYS: dict[str, tuple[str, ...]] = {"调解员": ("mediator_id",), "*": ("assignee_id",)}

# Case columns copied from workflow data when present.
CASE_FIELDS = {"tier": "tier", "risk_level": "risk_level", "urgency": "urgency",
               "category": "category", "outcome": "outcome", "satisfaction": "satisfaction"}
LEAD_DEPARTMENT = "lead_department"
CO_DEPARTMENTS = "co_departments"
DISPATCH_ROUND = "dispatch_round"
SECOND_COMPLAINT = "second_complaint"
MEDIATOR_KEY = "mediator_id"
STATUS_KEY = "case_status"

# Work-order tasks: bpmn id -> stage ("sign_off" or "handle").
WORK_ORDER_TASKS: dict[str, str] = {}

# Messages the services deliver.
MSG_REOPEN = "MSG_Reopen"

# Start data of the top-level process.
TOP_PROCESS = "general_dispute"


def status_of(inst: Any, data: dict, ready: list) -> str:
    """Case status: the process's own ``case_status`` when it sets one, else derived."""
    if inst.is_completed():
        return CaseStatus.CLOSED
    value = data.get(STATUS_KEY)
    if value in set(CaseStatus):
        return value
    return CaseStatus.REGISTERED if not data.get(LEAD_DEPARTMENT) else CaseStatus.DISPATCHED

# Task effects (filled from bpmn/README.md): bpmn id -> function(clean form data) -> new status.
WORK_ORDER_EFFECTS: dict[str, Any] = {}
RETURN_REASON_FIELDS = ("return_reason", "reason")
RESULT_FIELDS = ("result_summary", "result", "summary")
# Tasks whose completion produces a record document: bpmn id -> (kind, title).
DOCUMENT_TASKS: dict[str, tuple[str, str]] = {}
# Tasks producing the written agreement when the predicate on the form data holds.
AGREEMENT_TASKS: dict[str, Any] = {}
# Tasks where a mediator is chosen by username: bpmn id -> form field.
MEDIATOR_CHOICE: dict[str, str] = {}
# Tasks recording the citizen's rating: bpmn id -> form field.
SATISFACTION_TASKS: dict[str, str] = {}
