"""What work orders, their states, red-flag reviews, escalation notices, urgency, tier, intake
channels and mediation sessions are called, a table each.

Chinese words, marked with ``N_``: the case history and the case-file report
(workflows/replay) write them themselves, and they are the msgids of the pages' label tables
``wo_status``, ``wo_role``, ``review_state``, ``notice_kind``, ``urgency``, ``tier`` and
``channel`` and the session tables below (web/labels.py), which translate them (web/translations/update.py extracts this file).
"""

from __future__ import annotations

from workflows.models.assistant import ReviewState
from workflows.models.cases import Channel, Urgency, WorkOrderRole, WorkOrderStatus
from workflows.models.mediation import Attendance, ExpertField, SessionMode, SessionStatus
from workflows.models.people import Tier
from workflows.models.scheduling import NoticeKind


def N_(text: str) -> str:  # gettext's no-op marker: the name pybabel looks for
    """Mark words for translation on the pages; returns them unchanged."""
    return text


WORK_ORDER_STATUS_WORDS: dict[str, str] = {
    WorkOrderStatus.DISPATCHED: N_("待签收"), WorkOrderStatus.ACCEPTED: N_("已签收"),
    WorkOrderStatus.RETURNED: N_("已退单"), WorkOrderStatus.IN_PROGRESS: N_("办理中"),
    WorkOrderStatus.DONE: N_("已办结"), WorkOrderStatus.REFUSED: N_("已拒绝"),
    WorkOrderStatus.CLOSED: N_("随案关闭"),
}
WORK_ORDER_ROLE_WORDS: dict[str, str] = {WorkOrderRole.LEAD: N_("牵头"), WorkOrderRole.CO: N_("协办")}
REVIEW_STATE_WORDS: dict[str, str] = {ReviewState.PENDING: N_("待复核"),
                                      ReviewState.CONFIRMED: N_("确认风险"),
                                      ReviewState.DISMISSED: N_("排除风险")}
NOTICE_KIND_WORDS: dict[str, str] = {NoticeKind.REMINDER: N_("催办"), NoticeKind.SUPERVISION: N_("督办单"),
                                     NoticeKind.UPGRADE: N_("提级督办"),
                                     NoticeKind.LEADERSHIP: N_("领导包案")}
URGENCY_WORDS: dict[str, str] = {Urgency.URGENT: N_("紧急"), Urgency.GENERAL: N_("一般")}
TIER_WORDS: dict[str, str] = {Tier.DISTRICT: N_("区级"), Tier.STREET: N_("街道（乡镇）级"),
                              Tier.COMMUNITY: N_("社区（村）级")}
INTAKE_CHANNEL_WORDS: dict[str, str] = {
    Channel.COUNTER: N_("窗口来访"), Channel.HOTLINE_12345: N_("12345 热线"),
    Channel.GRID_APP: N_("网格员 APP"), Channel.PORTAL: N_("网上平台"),
    Channel.PETITION_TRANSFER: N_("信访转送"), Channel.POLICE_110: N_("110 分流"),
    Channel.IOT: N_("物联网感知设备"),
}

# mediation sessions (the pages' ``session_mode``, ``session_status``, ``attendance`` and
# ``expert_field`` tables)
SESSION_MODE_WORDS: dict[str, str] = {SessionMode.IN_PERSON: N_("现场调解"),
                                      SessionMode.ONLINE: N_("线上调解")}
SESSION_STATUS_WORDS: dict[str, str] = {
    SessionStatus.BOOKED: N_("已预约"), SessionStatus.HELD: N_("已举行"),
    SessionStatus.NO_SHOW: N_("有当事人缺席"), SessionStatus.CANCELLED: N_("已取消")}
ATTENDANCE_WORDS: dict[str, str] = {
    Attendance.IN_PERSON: N_("到场"), Attendance.ONLINE: N_("线上参加"),
    Attendance.PHONE: N_("电话参加"), Attendance.ABSENT: N_("缺席")}
EXPERT_FIELD_WORDS: dict[str, str] = {
    ExpertField.LAW: N_("法律"), ExpertField.PSYCHOLOGY: N_("心理"),
    ExpertField.LABOUR: N_("劳动"), ExpertField.CONSTRUCTION: N_("建筑"),
    ExpertField.LAND: N_("土地")}
