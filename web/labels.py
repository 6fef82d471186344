"""Display labels for codes (statuses, tiers, roles, channels …), translatable, in one place."""

from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

STATUS = {
    "registered": _l("已登记"), "triage": _l("分流研判"), "dispatched": _l("已派单"),
    "in_handling": _l("办理中"), "in_mediation": _l("调解中"),
    "awaiting_feedback": _l("待回访评价"), "closed": _l("已结案"), "reopened": _l("重新办理"),
}
TIER = {"district": _l("区级"), "street": _l("街道（乡镇）级"), "community": _l("社区（村）级")}
URGENCY = {"urgent": _l("紧急"), "general": _l("一般")}
CHANNEL = {
    "counter": _l("窗口来访"), "hotline_12345": _l("12345 热线"), "grid_app": _l("网格员 APP"),
    "portal": _l("网上平台"), "petition_transfer": _l("信访转送"), "police_110": _l("110 分流"),
}
ROLE = {
    "intake_clerk": _l("受理员"), "triage_officer": _l("分流研判员"), "mediator": _l("调解员"),
    "dept_handler": _l("承办人"), "supervisor": _l("督办员"), "leader": _l("领导"),
    "process_owner": _l("流程管理员"), "auditor": _l("审计员"), "admin": _l("系统管理员"),
}
PARTY_ROLE = {"applicant": _l("申请人"), "respondent": _l("被申请人"), "third_party": _l("第三人")}
WORK_ORDER_ROLE = {"lead": _l("牵头"), "co": _l("协办")}
WORK_ORDER_STATUS = {
    "dispatched": _l("待签收"), "accepted": _l("已签收"), "returned": _l("已退单"),
    "in_progress": _l("办理中"), "done": _l("已办结"), "refused": _l("已拒绝"),
}
CONTACT = {"sms": _l("短信"), "phone": _l("电话"), "email": _l("电子邮件"), "none": _l("不联系")}
VULNERABLE = {"elderly": _l("老年人"), "disabled": _l("残疾人"), "minor": _l("未成年人")}
SATISFACTION = {"satisfied": _l("满意"), "basically_satisfied": _l("基本满意"),
                "dissatisfied": _l("不满意"), "unrated": _l("未评价")}
CATEGORY = {  # the categories routing.dmn reads (bpmn/README.md, "Categories")
    "neighbour": _l("邻里纠纷"), "property": _l("物业纠纷（单户）"),
    "property_collective": _l("物业纠纷（群体/电梯/安全）"), "family": _l("婚姻家庭/赡养"),
    "labour": _l("劳资纠纷（个人）"), "labour_collective": _l("劳资/欠薪（群体或建筑领域）"),
    "expropriation": _l("房屋征收补偿"), "land_contract": _l("土地承包/流转"),
    "land_rights": _l("土地权属"), "noise": _l("噪声/城市管理"), "public_order": _l("高空抛物/治安"),
    "petition": _l("信访转送事项"), "other": _l("其他"),
}
PURPOSE = {
    "contact": _l("联系当事人"), "document": _l("制作文书（调解协议书等）"),
    "verify_identity": _l("核实身份"), "judicial_confirmation": _l("司法确认材料"),
    "supervision": _l("督办核查"),
}
EVENT = {
    "case_opened": _l("案件登记"), "case_updated": _l("案件更新"), "case_closed": _l("结案"),
    "case_reopened": _l("重新办理"), "submission_linked": _l("关联来件"),
    "task_completed": _l("完成任务"), "task_claimed": _l("认领任务"),
    "task_released": _l("释放任务"), "timer_fired": _l("时限到期"),
    "message_received": _l("收到消息"), "work_order_changed": _l("工单变更"),
    "risk_changed": _l("风险等级变更"), "party_registered": _l("登记当事人"),
    "party_viewed": _l("查看当事人"), "party_unmasked": _l("查看当事人完整信息"),
    "access_denied": _l("拒绝访问"), "notification_queued": _l("发送通知"),
    "instance_migrated": _l("流程版本迁移"), "instance_started": _l("流程启动"),
    "sla_changed": _l("时限变更"), "incident_raised": _l("异常"),
    "sla_requested": _l("时限申请"), "sla_decided": _l("时限审批"),
    "light_changed": _l("时效变化"), "supervision_issued": _l("督办"),
    "supervision_replied": _l("督办单答复"), "tier_upgraded": _l("提级"),
    "incident_retried": _l("异常重新执行"), "outbox_failed": _l("通知发送失败"),
    "outbox_retried": _l("通知重新发送"),
    "case_exported": _l("案件导出"), "case_replayed": _l("案件回放"),
    "document_generated": _l("生成文书"), "satisfaction_recorded": _l("满意度已记录"),
    "narrative_unmasked": _l("查看诉求描述"), "audit_payloads_read": _l("读取审计明细"),
    "parties_searched": _l("按证件号/手机号查重"), "report_downloaded": _l("下载报表"),
}

RISK = {"red": _l("红"), "orange": _l("橙"), "yellow": _l("黄"), "blue": _l("蓝"), "green": _l("绿")}
PROCESS_STATUS = {"active": _l("已启用"), "pending": _l("待审批"), "retired": _l("已停用")}
REPORT_KIND = {"weekly": _l("周调度清单"), "monthly": _l("月度通报"), "quarterly": _l("季度评估")}
TABLES = {"risk": RISK, "status": STATUS, "tier": TIER, "urgency": URGENCY, "channel": CHANNEL, "role": ROLE,
          "party_role": PARTY_ROLE, "wo_role": WORK_ORDER_ROLE, "wo_status": WORK_ORDER_STATUS,
          "contact": CONTACT, "vulnerable": VULNERABLE, "satisfaction": SATISFACTION,
          "category": CATEGORY, "purpose": PURPOSE, "event": EVENT,
          "process_status": PROCESS_STATUS, "report_kind": REPORT_KIND}


def label(kind: str, code: object) -> str:
    """The translated label of ``code`` in table ``kind``; unknown codes are shown as they are."""
    if code is None or code == "":
        return "—"
    found = TABLES.get(kind, {}).get(str(code))
    return str(found) if found is not None else str(code)


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, translated label) pairs of a table, for select fields."""
    return [(code, str(text)) for code, text in TABLES[kind].items()]


# Field errors come from the services in Chinese (the source language); these are shown translated.
FIELD_ERRORS = {
    "必填": _l("必填"), "未知字段": _l("未知字段"), "应为文本": _l("应为文本"),
    "应为整数": _l("应为整数"), "应为是或否": _l("应为是或否"),
    "请选择列表中的一项": _l("请选择列表中的一项"), "格式不正确": _l("格式不正确"),
    "日期格式应为 YYYY-MM-DD": _l("日期格式应为 YYYY-MM-DD"),
    "至少登记一名申请人": _l("至少登记一名申请人"), "请选择查看目的": _l("请选择查看目的"),
    "请选择满意、基本满意或不满意": _l("请选择满意、基本满意或不满意"),
    "手机号只能包含数字、空格、+、- 和括号": _l("手机号只能包含数字、空格、+、- 和括号"),
    "手机号应为 11 位中国大陆手机号码（1 开头，第二位 3-9）":
        _l("手机号应为 11 位中国大陆手机号码（1 开头，第二位 3-9）"),
    "身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X）":
        _l("身份证号应为 18 位：17 位数字加 1 位校验码（数字或 X）"),
    "身份证号中的出生日期无效": _l("身份证号中的出生日期无效"),
    "身份证号校验码错误（GB 11643），请核对号码": _l("身份证号校验码错误（GB 11643），请核对号码"),
    "请填写调解员的用户名或用户编号（须为调解员）": _l("请填写调解员的用户名或用户编号（须为调解员）"),
    "原密码不正确": _l("原密码不正确"), "密码须同时包含字母和数字或符号": _l("密码须同时包含字母和数字或符号"),
    "含有无效字符": _l("含有无效字符"),
    # workflows/deadlines/calendar_admin.py, drafts.py, sla.py, processes.py
    "类型须为 workday（上班）或 holiday（休息）": _l("类型须为 workday（上班）或 holiday（休息）"),
    "请说明调整原因": _l("请说明调整原因"),
    "文件名只能是不含路径的 .bpmn 或 .dmn 名称": _l("文件名只能是不含路径的 .bpmn 或 .dmn 名称"),
    "文件超过 2 MiB": _l("文件超过 2 MiB"), "文件不是 UTF-8 文本": _l("文件不是 UTF-8 文本"),
    "草稿至少需要一个文件": _l("草稿至少需要一个文件"), "文件合计超过 10 MiB": _l("文件合计超过 10 MiB"),
    "请说明申请理由": _l("请说明申请理由"), "只能申请中止或延期": _l("只能申请中止或延期"),
    "延长的期限不得超过原期限": _l("延长的期限不得超过原期限"), "该版本已停用": _l("该版本已停用"),
}
FIELD_ERROR_PATTERNS = (
    (re.compile(r"最多 (\S+) 个字符"), lambda v: gettext("最多 %(v)s 个字符", v=v)),
    (re.compile(r"至少 (\S+) 个字符"), lambda v: gettext("至少 %(v)s 个字符", v=v)),
    (re.compile(r"不能小于 (\S+)"), lambda v: gettext("不能小于 %(v)s", v=v)),
    (re.compile(r"不能大于 (\S+)"), lambda v: gettext("不能大于 %(v)s", v=v)),
    (re.compile(r"不能早于 (\S+)"), lambda v: gettext("不能早于 %(v)s", v=v)),
    (re.compile(r"不能晚于 (\S+)"), lambda v: gettext("不能晚于 %(v)s", v=v)),
    (re.compile(r"密码至少 (\S+) 位"), lambda v: gettext("密码至少 %(v)s 位", v=v)),
    (re.compile(r"(\S+) 没有生效的调整"), lambda v: gettext("%(v)s 没有生效的调整", v=v)),
    (re.compile(r"每个时限最多延期 (\S+) 次"), lambda v: gettext("每个时限最多延期 %(v)s 次", v=v)),
)


def field_error(message: str | None) -> str | None:
    """A service's field error in the page's language (unknown messages pass through)."""
    if not message:
        return message
    known = FIELD_ERRORS.get(message)
    if known is not None:
        return str(known)
    for pattern, render in FIELD_ERROR_PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return render(found.group(1))
    return message


def field_errors(errors: dict[str, str] | None) -> dict[str, str]:
    """Every message of a field-error dict translated."""
    return {key: field_error(value) for key, value in (errors or {}).items()}
