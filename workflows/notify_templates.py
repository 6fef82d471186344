"""Notification texts: (subject, body) with plain ``{name}`` placeholders (R-TPL-1).

Parameters carry no personal data: case code, deadlines, department and stage names only
(R-PII-2: narratives never go into notifications).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, str]] = {
    "receipt": ("【解纷】受理回执",
                "【解纷】您的诉求已受理，案件编号 {case_no}。可凭编号查询办理进度。"),
    "progress": ("【解纷】办理进展", "【解纷】案件 {case_no} 办理进展：{stage}。"),
    "reply": ("【解纷】答复", "【解纷】案件 {case_no} 已有答复，请查收。"),
    "rating_request": ("【解纷】满意度评价",
                       "【解纷】案件 {case_no} 已办结，请对办理情况进行评价（满意/基本满意/不满意）。"),
    "reminder": ("【催办】期限预警",
                 "【催办】案件 {case_no} 的{limit}将于 {due} 到期，请抓紧办理。"),
    "supervision_notice": ("【督办通知】",
                           "【督办通知】案件 {case_no} 的{limit}已于 {due} 超时。"
                           "请于 {reply_by} 前书面说明情况并报送新的办结时间。"),
    "tier_upgraded": ("【挂牌督办】提级处理",
                      "【挂牌督办】案件 {case_no} 超时未办结（{reason}），已提级至{tier}协调，"
                      "列入月度通报。"),
    "leadership": ("【领导包案】",
                   "【领导包案】案件 {case_no} 风险等级为{risk}且超时未办结，请领导包案督办。"),
    "risk_raised": ("【风险预警】",
                    "【风险预警】案件 {case_no} 风险等级调整为{risk}：{reason}。"),
    "sla_request": ("【时限申请】",
                    "【时限申请】案件 {case_no} 申请{kind}，请审批。"),
    "sla_decided": ("【时限审批】", "【时限审批】案件 {case_no} 的{kind}申请已{decision}。"),
    "incident": ("【系统告警】自动步骤失败",
                 "【系统告警】案件 {case_no} 的自动步骤多次失败（{element}），已暂停，请处理。"),
    "report_ready": ("【报表】", "【报表】{title} 已生成。"),
}
