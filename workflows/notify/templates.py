"""Notification texts: (subject, body) with plain ``{name}`` placeholders.

Parameters carry no personal data: case code, deadlines, department and stage names only
(narratives never go into notifications).
"""

from __future__ import annotations

TEMPLATES: dict[str, tuple[str, str]] = {
    "receipt": ("【解纷】受理回执",
                "【解纷】您的诉求已受理，案件编号 {case_no}。可凭编号查询办理进度。"),
    "progress": ("【解纷】办理进展", "【解纷】案件 {case_no} 办理进展：{stage}。"),
    "reply": ("【解纷】答复", "【解纷】案件 {case_no} 已有答复，请查收。"),
    "rating_request": ("【解纷】满意度评价",
                       "【解纷】案件 {case_no} 已办结，请对办理情况进行评价（满意/基本满意/不满意）。"),
    "reminder": ("【催办】", "【催办】案件 {case_no} 的办理期限即将到期，请抓紧办理。"),
    "sla_reminder": ("【催办】期限预警",
                     "【催办】案件 {case_no} 的{limit}将于 {due} 到期，请抓紧办理。"),
    "manual_reminder": ("【催办】",
                        "【催办】案件 {case_no}：{reason}。请抓紧办理。"),
    "manual_supervision": ("【督办通知】",
                           "【督办通知】案件 {case_no}：{reason}。"
                           "请于 {reply_by} 前书面说明情况并报送新的办结时间。"),
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
    "step_failed": ("【系统告警】流程执行出错",
                    "【系统告警】案件 {case_no} 在流程环节 {element} 执行出错，流程已暂停，"
                    "请联系流程负责人处理后在督办页面重试。"),
    "intake_failed": ("【系统告警】来件登记失败",
                      "【系统告警】新来件登记时流程环节 {element} 执行出错，来件未保存，"
                      "请联系流程负责人处理。"),
    "sla_incident": ("【系统告警】时限检查失败",
                     "【系统告警】案件 {case_no} 的时限检查多次失败，已暂停检查，请处理。"),
    "report_ready": ("【报表】", "【报表】{title} 已生成。"),
    "hotspot_warning": ("【预警】矛盾纠纷多发",
                        "【预警】{place}{days}天内发生{category}类纠纷{count}起（案件 {cases}），"
                        "请研判处置。"),
    # mediation sessions (params: case_no, when, place: a room and its unit, or the meeting link)
    "session_scheduled": ("【解纷】调解安排",
                          "【解纷】案件 {case_no} 定于 {when} 调解，地点：{place}。请准时参加，"
                          "不能参加的请提前联系调解员。"),
    "session_rescheduled": ("【解纷】调解改期",
                            "【解纷】案件 {case_no} 的调解改为 {when}，地点：{place}。"),
    "session_cancelled": ("【解纷】调解取消",
                          "【解纷】案件 {case_no} 原定 {when} 的调解已取消，另行通知。"),
    # a mediator named to assist at a session (params: case_no, when, place)
    "co_mediator_named": ("【解纷】协助调解",
                          "【解纷】请您作为协助调解员参加案件 {case_no} 的调解，时间 {when}，"
                          "地点：{place}。请登录解纷查看案情，在“调解安排”中可见。"),
    # experts (params: case_no, when, place; no personal data)
    "expert_invited": ("【解纷】专家邀请",
                       "【解纷】邀请您以专家身份参加案件 {case_no} 的调解，时间 {when}，地点：{place}。"
                       "请登录解纷查看案情并提交书面意见。"),
    "expert_opinion": ("【解纷】专家意见", "【解纷】案件 {case_no} 的受邀专家已提交书面意见，请查看。"),
    "red_flag": ("【红旗复核】", "【红旗复核】案件 {case_no} 的诉求描述含{flags}类字样，请尽快人工复核。"),
    "interface_silent": ("【接口告警】接口无消息",
                         "【接口告警】{name}（{code}）已 {minutes} 分钟没有消息（最后一次 {last}），"
                         "请检查对接系统和网络。"),
    "early_warning": ("【预警】{rule}", "【预警】{rule}：{what}（案件 {cases}），请核实处置。"),
    # templates named by the shipped processes (notify service tasks; params: case_no only)
    "duplicate_linked": ("【解纷】重复件", "【解纷】您反映的事项已有案件在办，案件编号 {case_no}。"),
    "case_reopened": ("【解纷】重新办理", "【解纷】案件 {case_no} 已重新办理（二次投诉）。"),
    "case_closed": ("【解纷】办结", "【解纷】案件 {case_no} 已办结归档。"),
    "result_reply": ("【解纷】答复", "【解纷】案件 {case_no} 已办理完毕，答复意见请查收。"),
    "statutory_guidance": ("【解纷】依法导入",
                           "【解纷】案件 {case_no}：您反映的事项已进入法定途径，请依法向相应机关提出。"),
    "task_ready": ("【待办】", "【待办】案件 {case_no} 有新的待办任务。"),
    "sign_off_reminder": ("【催办】签收", "【催办】案件 {case_no} 的工单即将超过签收时限，请及时签收。"),
    "handling_overdue": ("【督办】超期", "【督办】案件 {case_no} 已超过办理期限，请尽快办结。"),
    "upgrade_notice": ("【挂牌督办】", "【挂牌督办】案件 {case_no} 超时未办结，已提级处理。"),
    "leadership_reminder": ("【领导包案】", "【领导包案】案件 {case_no}：请包案领导及时批示。"),
    "joint_meeting_reminder": ("【会商提醒】", "【会商提醒】案件 {case_no}：请按期召开联席会商。"),
    "mediation_reminder": ("【催办】调解", "【催办】案件 {case_no}：人民调解期限（一个月）临近。"),
    "labour_mediation_reminder": ("【催办】劳动争议调解",
                                  "【催办】案件 {case_no}：劳动争议调解期限（15日）临近，"
                                  "逾期未达成协议的可以申请仲裁。"),
    "arbitration_tracking": ("【解纷】仲裁跟踪",
                             "【解纷】案件 {case_no} 已转入劳动仲裁，请关注受理和裁决期限。"),
    "evidence_overdue": ("【催办】材料调取",
                         "【催办】案件 {case_no}：用人单位材料调取已超期，请记录并跟进。"),
    "inspection_filing_due": ("【催办】监察受理",
                              "【催办】案件 {case_no}：劳动保障监察受理期限（5个工作日）临近。"),
    "inspection_due": ("【催办】监察调查", "【催办】案件 {case_no}：劳动保障监察调查期限临近。"),
    "jc_window_reminder": ("【权利提示】司法确认",
                           "【权利提示】案件 {case_no}：调解协议司法确认申请期限（30日）临近。"),
    "jc_court_follow_up": ("【解纷】司法确认跟进",
                           "【解纷】案件 {case_no}：请跟进法院司法确认的受理和决定情况。"),
    "rights_window": ("【权利提示】", "【权利提示】案件 {case_no}：您的法定权利期限临近，请及时行使。"),
    "enforcement_window": ("【权利提示】强制执行",
                           "【权利提示】案件 {case_no}：申请强制执行的期限临近，请及时处理。"),
    "petition_review_window": ("【权利提示】复查 / 复核",
                               "【权利提示】案件 {case_no}：对信访处理意见不服请求复查（或对复查意见不服请求复核）"
                               "的30日期限临近，逾期视为接受。"),
    "limitation_reminder": ("【权利提示】仲裁时效",
                            "【权利提示】案件 {case_no}：申请仲裁的时效期间即将届满，请及时申请。"),
    "sue_window": ("【权利提示】起诉期限",
                   "【权利提示】案件 {case_no}：不服裁决（或复议决定）向人民法院起诉的期限临近，逾期裁决生效。"),
    "legal_follow_up": ("【解纷】法定途径跟进",
                        "【解纷】案件 {case_no}：受理或裁决的法定期限已到，请向有关机构了解进展并登记。"),
}
