"""What the notices, the channels they go by and their recipients are called, a table each.

Chinese words, marked with ``N_``: the case-file report (workflows/replay/export_words.py) writes
them itself, and they are the msgids of the pages' label tables ``notice``, ``notice_channel`` and
``recipient`` (web/labels.py), which translate them (web/translations/update.py extracts this file).
Keyed by the template names (notify/templates.py), NOTICE_CHANNELS and RECIPIENT_TYPES (outbox.py).
"""

from __future__ import annotations


def N_(text: str) -> str:  # gettext's no-op marker: the name pybabel looks for
    """Mark words for translation on the pages; returns them unchanged."""
    return text


NOTICE_WORDS: dict[str, str] = {
    "receipt": N_("受理回执"), "progress": N_("进度通知"), "reply": N_("答复"),
    "rating_request": N_("评价邀请"), "reminder": N_("催办"), "sla_reminder": N_("时限催办"),
    "supervision_notice": N_("督办通知"), "tier_upgraded": N_("提级通知"),
    "manual_reminder": N_("人工催办"), "manual_supervision": N_("人工督办通知"),
    "leadership": N_("领导包案"), "risk_raised": N_("风险预警"), "sla_request": N_("时限申请"),
    "sla_decided": N_("时限审批"), "incident": N_("自动步骤失败"), "step_failed": N_("流程执行出错"),
    "intake_failed": N_("来件登记失败"), "sla_incident": N_("时限检查失败"),
    "report_ready": N_("报表已生成"), "hotspot_warning": N_("矛盾纠纷多发预警"),
    "duplicate_linked": N_("重复件关联"), "case_reopened": N_("重新办理"), "case_closed": N_("结案告知"),
    "result_reply": N_("办理结果答复"), "statutory_guidance": N_("依法导入告知"),
    "task_ready": N_("新任务"), "sign_off_reminder": N_("签收催办"), "handling_overdue": N_("超期督办"),
    "upgrade_notice": N_("提级通知"), "leadership_reminder": N_("领导包案提醒"),
    "joint_meeting_reminder": N_("会商提醒"), "mediation_reminder": N_("调解催办"),
    "labour_mediation_reminder": N_("劳动争议调解催办"), "arbitration_tracking": N_("仲裁跟踪"),
    "evidence_overdue": N_("材料调取催办"), "inspection_filing_due": N_("监察受理催办"),
    "inspection_due": N_("监察调查催办"), "jc_window_reminder": N_("司法确认权利提示"),
    "jc_court_follow_up": N_("司法确认跟进"), "rights_window": N_("权利提示"),
    "enforcement_window": N_("强制执行权利提示"), "early_warning": N_("风险预警提示"),
    "interface_silent": N_("接口无消息告警"),
    "co_mediator_named": N_("协助调解通知"), "expert_invited": N_("专家邀请通知"), "expert_opinion": N_("专家意见已提交通知"),
    "session_scheduled": N_("调解安排通知"), "session_rescheduled": N_("调解改期通知"),
    "session_cancelled": N_("调解取消通知"), "red_flag": N_("红旗复核提醒"),
    "petition_review_window": N_("复查 / 复核权利提示"), "limitation_reminder": N_("仲裁时效提示"),
    "sue_window": N_("起诉期限提示"), "legal_follow_up": N_("法定途径跟进"),
}
RECIPIENT_WORDS: dict[str, str] = {"party": N_("当事人"), "user": N_("工作人员"), "department": N_("单位"),
                                   "role": N_("角色"), "channel_order": N_("来件渠道")}
CHANNEL_WORDS: dict[str, str] = {"file": N_("站内消息"), "sms": N_("短信"), "email": N_("电子邮件"),
                                 "phone": N_("电话任务"), "feed": N_("单位事件订阅"),
                                 "hotline_12345": N_("12345 热线回传")}
