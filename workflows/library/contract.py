"""The data contract between the shipped BPMN library (bpmn/README.md) and the case services.

Everything the services read from or write into workflow data, and every task id they give a
meaning to, is named here: a change of the process library is a change of this one module.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.instance import TaskView, WorkflowInstance
from workflows.library.elements import N_
from workflows.models import CaseStatus, WorkOrderStatus

TOP_PROCESS = "general_dispute"

# -- lanes and roles ------------------------------------------------------------------------------
# Lane names are the roles' Chinese names (受理员 …); these are extra spellings.
LANE_ALIASES: dict[str, str] = {
    "受理": "intake_clerk", "分流研判": "triage_officer", "调解委员会": "mediator",
    "承办部门": "dept_handler", "牵头部门": "dept_handler", "协办部门": "dept_handler",
    "督办": "supervisor", "区领导": "leader",
    # the short English lane names other modelers' files use
    "Intake": "intake_clerk", "Triage": "triage_officer", "Handling unit": "dept_handler",
    "Supervision": "supervisor", "Leadership": "leader",
}
# Roles whose tasks belong to one department (the task's department must be the actor's).
# Triage, supervision and leadership tasks are scoped by tier instead.
DEPARTMENT_ROLES = frozenset({"dept_handler", "mediator"})
# Task data keys naming the department a task belongs to: the multi-instance item first.
TASK_DEPARTMENT_KEYS = ("dept", "department")
# Task data keys naming the user a task is assigned to, per role ("*": any role).
ASSIGNEE_KEYS: dict[str, tuple[str, ...]] = {"mediator": ("mediator_id",), "*": ()}

# -- case fields from workflow data ---------------------------------------------------------------
CASE_FIELDS = {"tier": "tier", "risk_level": "risk_level", "urgency": "urgency",
               "category": "category", "people_count": "people_count", "outcome": "outcome",
               "satisfaction": "satisfaction"}
# Case fields typed at intake (not workflow data) that a step's form shows prefilled
# (casework/views.py) and so may correct: bpmn id -> the case fields a form field of the same name
# writes, audited. A field of that name on any other task is that task's data only.
CORRECTED_CASE_FIELDS: dict[str, tuple[str, ...]] = {"register": ("summary",)}
LEAD_DEPARTMENT = "department"          # routing.dmn output, changed by confirm_triage/redispatch
CO_DEPARTMENTS = "co_departments"
SECOND_COMPLAINT = "second_complaint"
MEDIATOR_KEY = "mediator_id"
# What pages call the process data the product itself writes (start data, service results,
# multi-instance items and outputs), where no form field or decision output names it; the
# process's own words win (library/graph.field_words). Process data is in the process's
# language, Chinese, whatever the page's.
DATA_WORDS = {
    "case_id": "案件内部编号", "case_no": "案件编号", "party_ids": "当事人",
    "duplicate_candidates": "疑似重复案件", "received_at": "来件时间", "emergency": "紧急",
    "statutory_channel": "属法定途径", "escalation_level": "督办级别",
    "second_complaint": "二次投诉", "people_count": "涉及人数", "dept": "协办部门",
    "co_decisions": "各协办部门签收意见", "notify_result": "最近一次通知",
    "supervise_result": "最近一次督办", "sign_off_due": "签收到期时刻",
    "sign_off_warn_at": "签收预警时刻", "session_id": "调解会次编号", MEDIATOR_KEY: "调解员",
    "risk_report": "风险上报",
}
# a field whose values are coded like another's (a multi-instance output gathers its orders'
# answers to one form field)
DATA_OPTIONS_OF = {"co_decisions": "co_sign_off_decision"}

# -- messages -------------------------------------------------------------------------------------
MSG_REOPEN = "reopen"                   # payload -> data['reopen'] (the watch window after closure)
MSG_RATING = "rating"                   # payload 'satisfied' | 'basically_satisfied' | 'dissatisfied'
MSG_RISK = "risk_raised"                # payload {"level": colour, "reason": text}
MSG_SESSION_CANCELLED = "session_cancelled"  # a booked session was cancelled: schedule again
MSG_PERFORMED = "performed"            # payload 'paid': the parties performed before the period ran out
PERFORMED_PAID = "paid"                # what the ``performed`` message sets (the return visit's answer)
MESSAGES = (MSG_REOPEN, MSG_RATING, MSG_RISK, MSG_SESSION_CANCELLED, MSG_PERFORMED)
# what the history calls them (N_: the pages' label table ``message`` translates these words)
MESSAGE_WORDS = {MSG_REOPEN: N_("重新打开"), MSG_RATING: N_("满意度评价"), MSG_RISK: N_("风险上报"),
                 MSG_SESSION_CANCELLED: N_("调解预约取消"), MSG_PERFORMED: N_("协议已履行")}
RATINGS = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意",
           "unrated": "未评价"}


def start_data(*, case_id: int, case_no: str, category: str, urgency: str, people_count: int,
               emergency: bool, statutory_channel: bool, party_ids: list[str],
               received_at: str) -> dict:
    """Start data of ``general_dispute`` (bpmn/README.md): no personal data, party ids only.
    ``received_at`` (ISO, with offset) is where the first sign-off limit starts."""
    return {"case_id": case_id, "case_no": case_no, "category": category, "urgency": urgency,
            "people_count": people_count, "emergency": emergency,
            "statutory_channel": statutory_channel, "party_ids": party_ids,
            "duplicate_candidates": [], "escalation_level": "none", "second_complaint": False,
            "received_at": received_at}


# -- work orders ----------------------------------------------------------------------------------
# Tasks whose appearance means a department has an order to sign: bpmn id -> order role.
SIGN_OFF_TASKS = {"sign_off": "lead", "co_sign_off": "co"}
_S = WorkOrderStatus


def _pick(field: str, mapping: dict[str, str]) -> Callable[[dict], str | None]:
    return lambda clean: mapping.get(str(clean.get(field)))


# bpmn id -> (role of the order it changes, function(clean form data) -> new status or None)
WORK_ORDER_EFFECTS: dict[str, tuple[str, Callable[[dict], str | None]]] = {
    "sign_off": ("lead", _pick("sign_off_decision", {"accept": _S.ACCEPTED,
                                                     "return": _S.RETURNED})),
    "contact_citizen": ("lead", lambda clean: _S.IN_PROGRESS),
    "submit_result": ("lead", lambda clean: _S.DONE),
    "review_result": ("lead", _pick("review_decision", {"return": _S.IN_PROGRESS})),
    "verify_dissatisfaction": ("lead", _pick("dissatisfaction_cause",
                                             {"handling_unit": _S.IN_PROGRESS})),
    "co_sign_off": ("co", _pick("co_sign_off_decision", {"accept": _S.ACCEPTED,
                                                         "return": _S.RETURNED})),
    "review_co_return": ("co", _pick("co_return_review", {"reject_return": _S.DISPATCHED})),
    "co_handle": ("co", lambda clean: _S.DONE),
}
RETURN_REASON_FIELDS = ("return_reason", "co_return_reason")
# A return (退单) states its reason and its basis, as the sign-off instructions ask:
# bpmn id -> (decision field, reason field, basis field).
RETURN_FIELDS = {"sign_off": ("sign_off_decision", "return_reason", "return_basis"),
                 "co_sign_off": ("co_sign_off_decision", "co_return_reason", "co_return_basis")}
RESULT_FIELDS = ("result_summary", "co_result")
# A written agreement is signed when all its signatures are (人民调解法 Art 29): "signed" with a
# box unticked is refused on the form rather than looping back to the step (its gateway's
# default): bpmn id -> (decision field, its "all signed" value, the signature boxes).
SIGNATURE_FIELDS = {"sign_agreement": ("signing_outcome", "signed",
                                       ("parties_signed", "mediator_signed", "committee_sealed"))}

# -- documents ------------------------------------------------------------------------------------
# Tasks whose completion produces a record document: bpmn id -> (kind, title).
DOCUMENT_TASKS: dict[str, tuple[str, str]] = {
    "register": ("registration", "受理登记表"),
    "request_evidence": ("evidence_request", "用人单位材料调取通知"),
    "emergency_transfer": ("emergency_transfer", "紧急移交记录"),
    "statutory_guidance": ("statutory_guidance", "依法导入告知书"),
    "confirm_duplicate": ("duplicate_link", "重复件关联记录"),
    "confirm_triage": ("risk_assessment", "风险研判记录"),
    "sign_off": ("sign_off", "签收 / 退单记录"),
    "redispatch": ("dispatch_order", "派单单（重新派单）"),
    "co_sign_off": ("co_sign_off", "协办签收 / 退单记录"),
    "co_handle": ("co_result", "协办办理反馈"),
    "lead_consolidate": ("joint_result", "联合办理汇总"),
    "contact_citizen": ("first_contact", "首次联系记录"),
    "handle_case": ("handling_record", "办理记录"),
    "submit_result": ("completion_report", "办结报告"),
    "return_visit": ("return_visit", "回访记录 / 满意度评价"),
    "verify_dissatisfaction": ("dissatisfaction_check", "不满意核实记录"),
    "refusal_notice": ("refusal_notice", "不予调解告知"),
    "register_mediation": ("mediation_registration", "调解登记表"),
    "mediation_session": ("mediation_record", "调解笔录"),
    "handle_no_show": ("no_show_record", "缺席处理记录"),
    "terminate_mediation": ("termination_notice", "终止调解告知书"),
    "record_oral_agreement": ("oral_agreement", "口头协议内容记录"),
    "prepare_jc": ("jc_application", "司法确认申请"),
    "record_jc_decision": ("jc_decision", "司法确认结果"),
    "performance_check": ("performance_visit", "履行回访记录"),
    "labour_agreement": ("labour_agreement", "劳动争议调解协议"),
    "prepare_arbitration": ("arbitration_guidance", "仲裁申请引导记录"),
    "payment_order_guidance": ("payment_order_guidance", "支付令 / 仲裁引导记录"),
    "inspection_result": ("inspection_decision", "劳动保障监察处理记录"),
    "rights_notice": ("rights_notice", "权利告知书"),
    "compensation_agreement": ("compensation_agreement", "补偿协议要点"),
    "issue_supervision": ("supervision_notice", "督办单"),
    "reply_supervision": ("supervision_reply", "情况说明"),
    "leader_take_charge": ("leadership_letter", "包案责任书"),
    "joint_meeting": ("meeting_minutes", "会商纪要"),
}
# Tasks producing the written mediation agreement (调解协议书) from party records and task data.
AGREEMENT_TASKS: dict[str, Callable[[dict], bool]] = {"draft_agreement": lambda clean: True}
# the joint application for judicial confirmation, drawn up when the parties apply together
JC_APPLICATION_TASKS = ("prepare_jc",)
# the labour mediation's written agreement, with the parties' particulars like the one above
LABOUR_AGREEMENT_TASKS = ("labour_agreement",)
AGREEMENT_FIELDS = {"facts": "agreement_facts", "disputed_matters": "agreement_disputed_matters",
                    "responsibilities": "agreement_responsibilities",
                    "content": "agreement_terms", "manner": "performance_manner",
                    "period": "performance_period", "judicial_confirmation": "jc_intended"}
# How a case is handled (the triage form's choice; case_handling calls the matching sub-process).
HANDLING_MODES = ("mediation", "labour", "expropriation", "generic")
TYPE_HANDLING = ("mediation", "labour", "expropriation")   # the modes with a process of their own
# what they are called (N_: the pages' label table ``handling`` translates these words)
HANDLING_WORDS = {"mediation": N_("人民调解"), "labour": N_("劳资纠纷处置"),
                  "expropriation": N_("征收补偿协调"), "generic": N_("部门办理")}
# A case's outcome: the result form's R1-R5, and what an early end implies.
OUTCOMES = ("R1", "R2", "R3", "R4", "R5", "transferred", "duplicate")
# what they are called: the result form's options (general_dispute submit_result) and the
# pages' label table ``outcome`` (N_: translated there). A user never reads the codes.
OUTCOME_WORDS = {"R1": N_("协议化解"), "R2": N_("行政处理化解"), "R3": N_("解释说明，无补救"),
                 "R4": N_("依法导入法定途径"), "R5": N_("调解不成，告知法律途径"),
                 "transferred": N_("紧急移交"), "duplicate": N_("重复件")}


def _agreement_performed(data: dict) -> bool:
    agreed = data.get("signing_outcome") == "signed" or data.get("agreement_form") == "oral"
    performed = data.get("performed") == "performed" or data.get("performed_early") == PERFORMED_PAID
    return agreed and performed


def _joint_resolved(data: dict) -> bool:
    """A department handling with co-units its lead concluded 已解决: with no type-specific
    process, or before a mediation, which then does not take place (case_handling.bpmn
    gw_joint_resolved: no 征询调解意愿, so no ``consent`` in the data)."""
    if data.get("joint_outcome") != "resolved":
        return False
    handling = data.get("handling")
    return handling not in TYPE_HANDLING or (handling == "mediation" and "consent" not in data)


# What earlier steps make certain, in the words of their own forms and instructions:
# outcome -> the data that implies it.
IMPLIED_OUTCOMES: tuple[tuple[str, Callable[[dict], bool]], ...] = (
    # an agreement signed (or agreed orally) and performed, at the return visit or early
    ("R1", _agreement_performed),
    # a department handling with co-units whose lead concluded it resolved
    ("R2", _joint_resolved),
    # a party refused mediation: 不予调解 (people_mediation refusal_notice: 结果选 依法导入法定途径)
    ("R4", lambda data: data.get("consent") == "refused"),
    # the mediation was ended: 终止调解并告知法律途径 (terminate_mediation: 结果选 调解不成，告知法律途径)
    ("R5", lambda data: bool(data.get("termination_reason"))),
)


def implied_outcome(data: dict) -> str | None:
    """The outcome the case's path makes certain, which the result report (提交办结报告) starts
    from (IMPLIED_OUTCOMES); None when the path leaves it open, or points two ways (data of an
    earlier round of handling still in the process)."""
    found = {outcome for outcome, holds in IMPLIED_OUTCOMES if holds(data)}
    return found.pop() if len(found) == 1 else None


# form fields a step starts from when the process data does not hold them yet: field -> rule
IMPLIED_VALUES: dict[str, Callable[[dict], str | None]] = {"outcome": implied_outcome}
# The escalation ladder's levels as escalation.dmn writes them (none: not escalated).
ESCALATION_LEVELS = ("none", "L0", "L1", "L2", "L3")
# what they are called (N_: the pages' label table ``escalation`` translates these words)
ESCALATION_WORDS = {"none": N_("未督办"), "L0": N_("催办"), "L1": N_("督办单"), "L2": N_("提级督办"),
                    "L3": N_("领导包案")}
# The lead unit's consolidation of a joint dispatch: its page lists every co-unit's answer.
CONSOLIDATION_TASKS = frozenset({"lead_consolidate"})
# Tasks where a mediator is chosen (user id or username): bpmn id -> form field.
MEDIATOR_CHOICE: dict[str, str] = {"assign_mediator": "mediator_id"}
# The clerk's decision on similarity-only duplicate candidates (end_duplicate /
# end_reopen_requested): bpmn id -> (decision field, master case code field).
DUPLICATE_DECISION = {"confirm_duplicate": ("duplicate_decision", "master_case_no")}
# Scheduling a mediation session books a room or an online meeting (form fields session_mode,
# room_code, session_date, session_start, session_end, meeting_link); the booking's id goes into
# the task data as SESSION_KEY.
SESSION_BOOKING_TASKS = frozenset({"schedule_session"})
SESSION_KEY = "session_id"
# Date fields of task forms that plan ahead (every other date records something that happened).
PLAN_DATE_FIELDS = frozenset({"session_date"})
# Recording who took part in the booked session: bpmn id -> {side: form field}.
ATTENDANCE_TASKS: dict[str, dict[str, str]] = {
    "record_attendance": {"applicant": "applicant_attendance",
                          "respondent": "respondent_attendance"}}
# Steps that route a case to a statutory channel the centre keeps following in a process of its
# own: screening's 依法导入 (R4, general_dispute: gw_statutory_path) and a failed mediation (R5,
# people_mediation: gw_failed_route; labour_dispute: gw_arbitration_route): bpmn id -> the form
# field naming the route; route -> path (CaseLegalPath.path).
LEGAL_PATH_DECISIONS = {"statutory_guidance": "statutory_route",
                        "terminate_mediation": "legal_route",
                        "prepare_arbitration": "legal_route"}
NO_LEGAL_PATH = "none"   # a failed mediation not routed to a followed channel (the default)
LEGAL_PATH_ROUTES = {"petition": "petition", "petition_review": "petition",
                     "land_arbitration": "land_arbitration", "labour_award": "labour_award",
                     "administrative_review": "administrative_review"}
# The processes of the legal paths -> the path they follow (a case following one is not in
# handling: no resolution clock; a case started on one at intake is counted on that path).
LEGAL_PATH_PROCESSES = {"petition_intake": "petition", "petition_path": "petition",
                        "land_arbitration": "land_arbitration",
                        "labour_award": "labour_award",
                        "administrative_review": "administrative_review"}
# Shipped case types: a category's entry process when the case types table has no row for it
# and that process has an active version (a matter that arrives as a petition is followed on
# the petition path from intake; the process owners may point it elsewhere with a row).
DEFAULT_CASE_TYPES = {"petition": "petition_intake"}
# The limits whose legal basis the case page's 时限 panel states in words (docs/legal-windows.md).
LEGAL_WINDOW_IDS = ("T-03", "T-07", "T-08", "T-20", "T-21", "T-24", "T-25", "T-26", "T-30",
                    "T-31", "T-32", "T-33", "T-40", "T-41", "T-42", "T-43")
# The 复核 answer: a petition's last level (信访工作条例 Art 36).
PETITION_FINAL_TASK = "recheck_decision"
# Tasks recording the citizen's rating: bpmn id -> form field.
SATISFACTION_TASKS: dict[str, str] = {"return_visit": "satisfaction"}

# -- status ---------------------------------------------------------------------------------------
_INTAKE = {"register", "confirm_duplicate"}
_TRIAGE = {"emergency_transfer", "statutory_guidance", "confirm_triage", "redispatch"}
_DISPATCH = {"sign_off"}                 # the lead department has not signed yet
_FEEDBACK = {"return_visit", "verify_dissatisfaction"}
_MEDIATION_PROCESSES = {"people_mediation", "mediation_sessions"}
_END_OUTCOMES = {"end_routed": "R4", "end_transferred": "transferred",
                 "end_duplicate": "duplicate", "end_reopen_requested": "duplicate"}
# a petition registered as such is followed on the petition path: 依法导入 (R4) when it ends
_END_OUTCOMES_OF = {TOP_PROCESS: _END_OUTCOMES,
                    "petition_intake": {"end_petition_followed": "R4"}}


def status_of(inst: WorkflowInstance, data: dict, ready: list[TaskView]) -> str:
    """The case status the process is in, from its open tasks and waiting events."""
    if inst.is_completed() or MSG_REOPEN in inst.waiting_messages():
        return CaseStatus.CLOSED
    ids = {t.bpmn_id for t in ready}
    if MSG_RATING in inst.waiting_messages() or ids & _FEEDBACK:
        return CaseStatus.AWAITING_FEEDBACK
    if ids & _INTAKE or not ids and not data.get(LEAD_DEPARTMENT):
        return CaseStatus.REGISTERED
    if ids & _TRIAGE:
        return CaseStatus.TRIAGE
    if ids & _DISPATCH:
        return CaseStatus.DISPATCHED
    if any(t.process_id in _MEDIATION_PROCESSES or t.lane == "调解员" for t in ready):
        return CaseStatus.IN_MEDIATION
    return CaseStatus.IN_HANDLING


def end_outcome(inst: WorkflowInstance) -> str | None:
    """The outcome an early end event implies (routed, transferred, duplicate)."""
    states = inst.element_states()
    for process_id, ends in _END_OUTCOMES_OF.items():
        completed = states.get(process_id, {}).get("completed", [])
        for end_id, outcome in ends.items():
            if end_id in completed:
                return outcome
    return None
