"""What the audit events, the kinds of actor behind them and the chains are called, a table each.

Chinese words, marked with ``N_``: the case-file report (workflows/replay/export_html.py) writes
them itself, and they are the msgids of the pages' label tables ``event``, ``actor_type`` and
``chain`` (web/labels.py), which translate them (web/translations/update.py extracts this file too).
"""

from __future__ import annotations

from workflows.audit.coverage import SYSTEM_CHAIN
from workflows.audit.log import AuditAction as A


def N_(text: str) -> str:  # gettext's no-op marker: the name pybabel looks for
    """Mark words for translation on the pages; returns them unchanged."""
    return text


# the kinds of actor (workflows/core/actors.py ACTOR_TYPES)
ACTOR_WORDS: dict[str, str] = {"user": N_("用户"), "api": N_("渠道接口"), "scheduler": N_("定时任务"),
                               "system": N_("系统"), "replay": N_("复核重放")}
# the chains a case's history shows besides its own (the outbox: replay/history.py OUTBOX)
CHAIN_WORDS: dict[str, str] = {SYSTEM_CHAIN: N_("系统链"), "outbox": N_("通知记录")}
# every audit action, a notification sent (the outbox) and the case_updated changes the case
# timeline names on their own (workflows/casework/views.py CHANGES)
EVENT_WORDS: dict[str, str] = {
    A.CASE_OPENED: N_("案件登记"), A.CASE_UPDATED: N_("案件更新"), A.CASE_CLOSED: N_("结案"),
    A.CASE_REOPENED: N_("重新办理"), A.SUBMISSION_LINKED: N_("关联来件"),
    "notification_sent": N_("通知已发送"),
    A.TASK_STATE_CHANGED: N_("任务状态变化"), A.ENGINE_STEP: N_("流程推进"),
    A.TASK_COMPLETED: N_("完成任务"), A.TASK_CLAIMED: N_("认领任务"),
    A.TASK_RELEASED: N_("释放任务"), A.TIMER_FIRED: N_("时限到期"),
    A.MESSAGE_RECEIVED: N_("收到消息"),
    A.PROCESS_DEPLOYED: N_("部署流程"), A.PROCESS_REJECTED: N_("流程部署被拒"),
    A.DRAFTS_CLEANED: N_("清理过期草稿"), A.DRY_RUN_EXAMPLE_SAVED: N_("保存试运行回归示例"),
    A.DRY_RUN_EXAMPLE_DELETED: N_("删除试运行回归示例"),
    A.PROCESS_APPROVED: N_("流程版本审批生效"), A.PROCESS_RETIRED: N_("流程版本停用"),
    A.INSTANCE_MIGRATED: N_("流程版本迁移"), A.INSTANCE_STARTED: N_("流程启动"),
    A.RESULTS_MERGED: N_("补收协办结果"),
    A.WORK_ORDER_CHANGED: N_("工单变更"), A.RISK_CHANGED: N_("风险等级变更"),
    A.PARTY_REGISTERED: N_("登记当事人"), A.PARTY_VIEWED: N_("查看当事人"),
    A.PARTY_UNMASKED: N_("查看当事人完整信息"), A.NARRATIVE_UNMASKED: N_("查看诉求描述"),
    A.PARTIES_SEARCHED: N_("按证件号/手机号查重"), A.AUDIT_PAYLOADS_READ: N_("读取审计明细"),
    A.REPORT_DOWNLOADED: N_("下载报表"), A.ACCESS_DENIED: N_("拒绝访问"),
    A.LOGIN_SUCCEEDED: N_("登录成功"), A.LOGIN_FAILED: N_("登录失败"),
    A.LOGIN_PASSWORD_ACCEPTED: N_("密码验证通过（待第二因素）"),
    A.SECOND_FACTOR_ENROLLED: N_("启用双因素登录"), A.SECOND_FACTOR_RESET: N_("重置双因素登录"),
    A.LOGGED_OUT: N_("已退出登录"),
    A.USER_CREATED: N_("创建账号"), A.USER_DISABLED: N_("停用账号"),
    A.USER_UPDATED: N_("账号变更"), A.ROLE_GRANTED: N_("授予角色"),
    A.TOKEN_CREATED: N_("创建 API 令牌"), A.TOKEN_REVOKED: N_("吊销 API 令牌"),
    A.CALENDAR_CHANGED: N_("工作日历调整"), A.NOTIFICATION_QUEUED: N_("发送通知"),
    A.OUTBOX_FAILED: N_("通知发送失败"), A.INCIDENT_RAISED: N_("异常"),
    A.CASE_REPLAYED: N_("案件回放"), A.CASE_EXPORTED: N_("案件导出"),
    A.SLA_CHANGED: N_("时限变更"), A.SLA_REQUESTED: N_("时限申请"), A.SLA_DECIDED: N_("时限审批"),
    A.LIGHT_CHANGED: N_("时效变化"), A.SUPERVISION_ISSUED: N_("督办"),
    A.SUPERVISION_REPLIED: N_("督办单答复"), A.SUPERVISION_CLOSED: N_("督办单随案关闭"), A.TIER_UPGRADED: N_("提级"),
    A.INCIDENT_RETRIED: N_("异常重新执行"), A.OUTBOX_RETRIED: N_("通知重新发送"),
    A.AUDIT_VERIFIED: N_("审计链核验"),
    A.REPORT_GENERATED: N_("生成报表"), A.WARNING_RAISED: N_("发出预警"),
    A.WARNING_DECIDED: N_("核实预警"), A.WARNING_RULE_CHANGED: N_("预警规则变更"),
    A.DIRECTORY_IMPORTED: N_("导入地点、单位或用户"),
    A.ROOM_SAVED: N_("保存调解室"), A.SESSION_BOOKED: N_("预约调解"),
    A.SESSION_RESCHEDULED: N_("调解改期"), A.SESSION_CANCELLED: N_("取消调解预约"),
    A.SESSION_ATTENDED: N_("登记到场情况"), A.SESSION_CO_MEDIATOR: N_("指定协助调解员"),
    A.EXPERT_SAVED: N_("保存专家信息"),
    A.EXPERT_INVITED: N_("邀请专家"), A.EXPERT_OPINION_SUBMITTED: N_("专家提交书面意见"),
    A.KPI_TARGET_CHANGED: N_("修改指标目标"),
    A.CHANNEL_SECRET_ISSUED: N_("更换渠道密钥"), A.CHANNEL_ORDER_QUARANTINED: N_("工单待补录"),
    A.CHANNEL_ORDER_VIEWED: N_("查看待补录工单"), A.CHANNEL_ORDER_RESOLVED: N_("补录工单"),
    A.CATEGORY_MAPPING_CHANGED: N_("修改诉求类型对照"), A.CASE_TYPE_CHANGED: N_("修改案件类型"), A.INTERFACE_SAVED: N_("修改接口目录"),
    A.INTERFACE_SILENT: N_("接口长时间无消息"),
    A.USER_ENABLED: N_("启用账号"), A.USER_UNLOCKED: N_("解除登录锁定"),
    A.PASSWORD_RESET: N_("重置密码"), A.UNIT_CREATED: N_("新建单位"),
    A.UNIT_UPDATED: N_("单位变更"),
    A.ATTACHMENT_ADDED: N_("添加附件"), A.ATTACHMENT_DOWNLOADED: N_("下载附件"), A.GRID_REPORTED: N_("网格员上报"),
    A.GRID_VISIT_RECORDED: N_("网格员回访"), A.CALL_TASK_COMPLETED: N_("完成回电任务"),
    A.LEGAL_PATH_ENTERED: N_("转入法定途径跟踪"),
    A.DEVICES_IMPORTED: N_("导入物联网设备"), A.ALARM_RECEIVED: N_("收到设备告警"),
    A.ALARM_CLEARED: N_("设备告警已解除"), A.ALARM_QUARANTINED: N_("未登记设备告警已隔离"),
    A.ASSISTANT_SUGGESTED: N_("智能助手建议类型"), A.RED_FLAG_RAISED: N_("红旗复核待办"),
    A.RED_FLAG_REVIEWED: N_("红旗复核完成"), A.ASSISTANT_RETRAINED: N_("智能助手重新训练"),
    # case_updated events the timeline names by their change (workflows/casework/views.py)
    "document_generated": N_("生成文书"), "satisfaction_recorded": N_("满意度已记录"),
    "document_issued": N_("首次出具 PDF 文书"),
    "performance_recorded": N_("记录协议已履行"), "summary_corrected": N_("更正事项摘要"),
}
