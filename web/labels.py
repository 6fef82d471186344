"""Display labels for codes (statuses, tiers, roles, channels …), translatable, in one place.

Every table is keyed by its code list in workflows (``CODE_LISTS``); tests/web/test_labels.py
fails when a code has no label here. Error codes get their words in web/messages.py.
"""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine import diff as bundle_diff
from engine.forms import FIELD_TYPES
from workflows.assistant.flags import Flag
from workflows.audit.coverage import SYSTEM_CHAIN
from workflows.audit.log import AuditAction
from workflows.audit.words import ACTOR_WORDS, CHAIN_WORDS, EVENT_WORDS
from workflows.cases.parties import PURPOSES, RECORDED_PURPOSES, VULNERABILITIES
from workflows.casework.views import CHANGES
from workflows.channels import feeds, hotline
from workflows.channels import health as channel_health
from workflows.core.actors import ACTOR_TYPES
from workflows.core.pii_text import PersonalDataKind
from workflows.grid.reports import TEXT_FIELDS as GRID_TEXT_FIELDS
from workflows.library import contract
from workflows.library.contract import RATINGS
from workflows.library.elements import ELEMENT_WORDS
from workflows.mediation.conflicts import Conflict
from workflows.models import (
    AlarmKind,
    AlarmSeverity,
    AlarmState,
    Attendance,
    CallOutcome,
    CaseEventKind,
    CaseStatus,
    Category,
    Channel,
    ContactPreference,
    Direction,
    ExpertField,
    InterfaceKind,
    InterfaceStatus,
    InvitationStatus,
    LegalPath,
    Light,
    LinkBasis,
    OrderStatus,
    PartyKind,
    PartyRole,
    PlaceLevel,
    QuarantineReason,
    ReviewState,
    RiskLevel,
    RoleCode,
    SessionMode,
    SessionStatus,
    SubmissionLink,
    Tier,
    Urgency,
    VersionStatus,
    VisitOutcome,
    WarningKind,
    WarningState,
    WorkOrderRole,
    WorkOrderStatus,
)
from workflows.models.scheduling import NoticeKind
from workflows.models.words import (
    ATTENDANCE_WORDS,
    EXPERT_FIELD_WORDS,
    INTAKE_CHANNEL_WORDS,
    NOTICE_KIND_WORDS,
    REVIEW_STATE_WORDS,
    SESSION_MODE_WORDS,
    SESSION_STATUS_WORDS,
    TIER_WORDS,
    URGENCY_WORDS,
    WORK_ORDER_ROLE_WORDS,
    WORK_ORDER_STATUS_WORDS,
)
from workflows.notify.outbox import DELIVERY_STATES, NOTICE_CHANNELS, RECIPIENT_TYPES
from workflows.notify.templates import TEMPLATES
from workflows.notify.words import CHANNEL_WORDS, NOTICE_WORDS, RECIPIENT_WORDS
from workflows.people.departments import RESPONSIBILITIES, UNIT_KINDS
from workflows.replay.export import EXPORT_PURPOSES
from workflows.replay.history import NOTIFICATION_SENT, OUTBOX
from workflows.reports.kpi_cases import FIGURES, KPI_BY_ID, KPI_STATUSES, KPI_UNITS
from workflows.reports.periodic import KINDS as REPORT_KINDS
from workflows.reports.targets import COMPARATORS

S, A = CaseStatus, AuditAction
STATUS = {
    S.REGISTERED: _l("已登记"), S.TRIAGE: _l("分流研判"), S.DISPATCHED: _l("已派单"),
    S.IN_HANDLING: _l("办理中"), S.IN_MEDIATION: _l("调解中"),
    S.AWAITING_FEEDBACK: _l("待回访评价"), S.CLOSED: _l("已结案"), S.REOPENED: _l("重新办理"),
}
TIER = {tier: _l(words) for tier, words in TIER_WORDS.items()}
URGENCY = {urgency: _l(words) for urgency, words in URGENCY_WORDS.items()}
CHANNEL = {channel: _l(words) for channel, words in INTAKE_CHANNEL_WORDS.items()}
ROLE = {
    RoleCode.INTAKE_CLERK: _l("受理员"), RoleCode.TRIAGE_OFFICER: _l("分流研判员"),
    RoleCode.MEDIATOR: _l("调解员"), RoleCode.DEPT_HANDLER: _l("承办人"),
    RoleCode.SUPERVISOR: _l("督办员"), RoleCode.LEADER: _l("领导"),
    RoleCode.PROCESS_OWNER: _l("流程管理员"), RoleCode.AUDITOR: _l("审计员"),
    RoleCode.ADMIN: _l("系统管理员"), RoleCode.GRID_WORKER: _l("网格员"),
    RoleCode.EXPERT: _l("专家"),
}
PARTY_ROLE = {PartyRole.APPLICANT: _l("申请人"), PartyRole.RESPONDENT: _l("被申请人"),
              PartyRole.THIRD_PARTY: _l("第三人")}
PARTY_KIND = {PartyKind.PERSON: _l("个人"), PartyKind.ORGANISATION: _l("单位（企业、组织）")}
WORK_ORDER_ROLE = {role: _l(words) for role, words in WORK_ORDER_ROLE_WORDS.items()}
WORK_ORDER_STATUS = {status: _l(words) for status, words in WORK_ORDER_STATUS_WORDS.items()}
CONTACT = {ContactPreference.SMS: _l("短信"), ContactPreference.PHONE: _l("电话"),
           ContactPreference.EMAIL: _l("电子邮件"), ContactPreference.NONE: _l("不联系")}
VULNERABLE = {"elderly": _l("老年人"), "disabled": _l("残疾人"), "minor": _l("未成年人")}
SATISFACTION = {"satisfied": _l("满意"), "basically_satisfied": _l("基本满意"),
                "dissatisfied": _l("不满意"), "unrated": _l("未评价")}
CATEGORY = {  # the inputs of routing.dmn (bpmn/README.md, section 3.1)
    Category.NEIGHBOUR: _l("邻里纠纷"), Category.PROPERTY: _l("物业纠纷（单户）"),
    Category.PROPERTY_COLLECTIVE: _l("物业纠纷（群体/电梯/安全）"),
    Category.FAMILY: _l("婚姻家庭/赡养"), Category.LABOUR: _l("劳资纠纷（个人）"),
    Category.LABOUR_COLLECTIVE: _l("劳资/欠薪（群体或建筑领域）"),
    Category.EXPROPRIATION: _l("房屋征收补偿"), Category.LAND_CONTRACT: _l("土地承包/流转"),
    Category.LAND_RIGHTS: _l("土地权属"), Category.NOISE: _l("噪声/城市管理"),
    Category.PUBLIC_ORDER: _l("高空抛物/治安"), Category.PETITION: _l("信访转送事项"),
    Category.OTHER: _l("其他"),
}
PURPOSE = {
    "contact": _l("联系当事人"), "document": _l("制作文书（调解协议书等）"),
    "verify_identity": _l("核实身份"), "judicial_confirmation": _l("司法确认材料"),
    "supervision": _l("督办核查"),
    # recorded by the system itself, and an export's purpose (the access log shows all of them)
    "case_page": _l("查看案件页（脱敏）"), "case_search": _l("按当事人信息检索案件"),
    "duplicate_check": _l("登记时查重"),
    "audit": _l("审计查阅"), "quarantine": _l("核查隔离工单"),
    "external_review": _l("外部审查/复核"), "complaint_investigation": _l("投诉调查"),
    "legal_request": _l("司法/监察机关依法调取"), "internal_audit": _l("内部审计"),
}
EVENT = {action: _l(words) for action, words in EVENT_WORDS.items()}
RISK = {RiskLevel.RED: _l("红"), RiskLevel.ORANGE: _l("橙"), RiskLevel.YELLOW: _l("黄"),
        RiskLevel.BLUE: _l("蓝"), RiskLevel.GREEN: _l("绿")}
PROCESS_STATUS = {VersionStatus.ACTIVE: _l("已启用"), VersionStatus.PENDING: _l("待审批"),
                  VersionStatus.RETIRED: _l("已停用")}
PERSONAL_DATA = {PersonalDataKind.ID_NUMBER: _l("身份证号"), PersonalDataKind.BANK_CARD: _l("银行卡号"),
                 PersonalDataKind.MOBILE: _l("手机号"), PersonalDataKind.LANDLINE: _l("固定电话"),
                 PersonalDataKind.EMAIL: _l("电子邮箱")}
UNIT_KIND = {  # the kinds of the routing table (the department codes of earlier releases)
    "GA": _l("公安机关（分局、派出所）"), "SF": _l("司法行政部门（司法局、司法所）"),
    "XF": _l("信访部门"), "MZ": _l("民政部门"), "RS": _l("人力资源和社会保障部门"),
    "ZJ": _l("住房和城乡建设部门（含房屋征收）"), "CG": _l("城市管理综合执法部门"),
    "SJ": _l("市场监督管理部门"), "WJ": _l("卫生健康部门"), "ZR": _l("自然资源和规划部门"),
    "HJ": _l("生态环境部门"), "FY": _l("人民法院"), "ZZ": _l("综治中心（矛盾纠纷调处中心）"),
    "JD": _l("街道办事处"), "XZ": _l("乡镇人民政府"), "SQ": _l("社区居（村）委会（网格）"),
    "SQTJ": _l("社区（村）人民调解委员会"), "JDTJ": _l("街道（乡镇）人民调解委员会"),
    "JDLT": _l("街道（乡镇）劳动争议调解中心"), "WY": _l("物业服务企业"), "FL": _l("妇联"),
    "GH": _l("工会"), "JR": _l("金融监管部门 / 开户银行"), "NY": _l("农业农村部门"),
    "JY": _l("教育部门"), "PG": _l("房地产价格评估专家委员会"), "WG": _l("网格工作站"),
}
RESPONSIBILITY = {  # 部门职责边界清单: dispute categories and the other duties of the seeds
    **{code: text for code, text in CATEGORY.items() if code in RESPONSIBILITIES},
    "emergency": _l("突发事件"), "mediation_guidance": _l("人民调解指导"),
    "legal_aid": _l("法律援助"), "elderly": _l("养老服务"), "social_assistance": _l("社会救助"),
    "urban_management": _l("城市管理"), "consumer": _l("消费维权"), "elevator": _l("电梯安全"),
    "special_equipment": _l("特种设备"), "health": _l("医疗卫生"), "environment": _l("生态环境"),
    "judicial_confirmation": _l("司法确认"), "payment_order": _l("支付令"),
    "triage": _l("分流研判"), "supervision": _l("督办"), "campus_safety": _l("校园安全"),
}
REPORT_KIND = {"weekly": _l("周调度清单"), "monthly": _l("月度通报"), "quarterly": _l("季度评估")}
PLACE_LEVEL = {
    PlaceLevel.CITY: _l("市"), PlaceLevel.DISTRICT: _l("区"), PlaceLevel.STREET: _l("街道"),
    PlaceLevel.TOWNSHIP: _l("乡镇"), PlaceLevel.COMMUNITY: _l("社区"), PlaceLevel.VILLAGE: _l("村"),
    PlaceLevel.GRID: _l("网格"), PlaceLevel.BUILDING: _l("楼栋"),
}
WARNING_KIND = {WarningKind.HOTSPOT: _l("同类纠纷多发"), WarningKind.REPEAT_PERSON: _l("同一人反复投诉"),
                WarningKind.LARGE_GROUP: _l("群体性风险"), WarningKind.TREND_SPIKE: _l("类型激增"),
                WarningKind.RISK_RISE: _l("风险等级上升"), WarningKind.WAGE_ARREARS: _l("节前欠薪")}
WARNING_STATE = {WarningState.OPEN: _l("待核实"), WarningState.CONFIRMED: _l("已核实"),
                 WarningState.FALSE_ALARM: _l("误报")}
LINKED_AS = {SubmissionLink.DUPLICATE: _l("重复件"), SubmissionLink.NEW: _l("新案件"),
             SubmissionLink.SECOND_COMPLAINT: _l("二次投诉")}
ACTOR_TYPE = {kind: _l(words) for kind, words in ACTOR_WORDS.items()}
MESSAGE = {name: _l(words) for name, words in contract.MESSAGE_WORDS.items()}
SESSION_MODE = {mode: _l(words) for mode, words in SESSION_MODE_WORDS.items()}
SESSION_STATUS = {status: _l(words) for status, words in SESSION_STATUS_WORDS.items()}
ATTENDANCE = {kind: _l(words) for kind, words in ATTENDANCE_WORDS.items()}
EXPERT_FIELD = {field: _l(words) for field, words in EXPERT_FIELD_WORDS.items()}
INVITATION_STATUS = {InvitationStatus.INVITED: _l("已邀请"),
                     InvitationStatus.SUBMITTED: _l("已提交意见"),
                     InvitationStatus.WITHDRAWN: _l("已撤回")}
CONFLICT = {Conflict.SAME_ORGANISATION: _l("专家的工作单位是本案当事人"),
            Conflict.COMPLETED_TASK: _l("专家曾在本案中办理过环节"),
            Conflict.CASE_PARTICIPANT: _l("专家曾参与本案（登记、调解或承办）"),
            Conflict.IS_PARTY: _l("专家的联系电话与本案当事人相同，可能本人就是当事人")}
NOTICE_KIND = {kind: _l(words) for kind, words in NOTICE_KIND_WORDS.items()}
NOTICE = {template: _l(words) for template, words in NOTICE_WORDS.items()}
LEGAL_PATH = {LegalPath.PETITION: _l("信访（受理、答复、复查、复核）"),
              LegalPath.LAND_ARBITRATION: _l("农村土地承包仲裁"),
              LegalPath.LABOUR_AWARD: _l("劳动仲裁（时效与裁决后期限）"),
              LegalPath.ADMINISTRATIVE_REVIEW: _l("行政复议")}
# the legal basis of a window on the case page's 时限 panel: article and what the limit is
LEGAL_BASIS = {
    "T-03": _l("人民调解法第33条：自调解协议生效之日起30日内共同申请司法确认"),
    "T-07": _l("劳动争议调解仲裁法第48—50条：收到仲裁裁决书之日起15日内起诉（终局裁决的用人单位30日内申请撤销）"),
    "T-08": _l("劳动争议调解仲裁法第27条：申请劳动仲裁的时效期间为1年"),
    "T-20": _l("国有土地上房屋征收评估办法第20条：收到评估报告之日起10日内申请复核"),
    "T-21": _l("国有土地上房屋征收评估办法第21—22条：复核10日、申请鉴定10日"),
    "T-24": _l("行政复议法第20条：知道行政行为之日起60日内申请行政复议"),
    "T-25": _l("行政复议法第62条：受理之日起60日内作出复议决定，可延长30日"),
    "T-26": _l("行政诉讼法第45—46条：起诉期限（复议后15日，直接起诉6个月）"),
    "T-30": _l("信访工作条例第34条：受理之日起60日内办结，可延长30日"),
    "T-31": _l("信访工作条例第22—23条：收到之日起15日内告知受理或转送"),
    "T-32": _l("信访工作条例第23条：收到转送之日起5个工作日内提出异议"),
    "T-33": _l("信访工作条例第35—36条：复查、复核的请求与答复各30日，复核为终局"),
    "T-40": _l("农村土地承包经营纠纷调解仲裁法第18条：申请仲裁的时效期间为2年"),
    "T-41": _l("农村土地承包经营纠纷调解仲裁法第23—24条：收到申请之日起5个工作日内决定是否受理"),
    "T-42": _l("农村土地承包经营纠纷调解仲裁法第47条：受理之日起60日内结束仲裁，可延长30日"),
    "T-43": _l("农村土地承包经营纠纷调解仲裁法第48条：收到裁决书之日起30日内起诉"),
}
RECIPIENT = {kind: _l(words) for kind, words in RECIPIENT_WORDS.items()}
# where a history row without a case sequence number comes from
CHAIN = {chain: _l(words) for chain, words in CHAIN_WORDS.items()}
DELIVERY = {"pending": _l("待发送"), "sent": _l("已发送"), "dead": _l("发送失败")}
NOTICE_CHANNEL = {channel: _l(words) for channel, words in CHANNEL_WORDS.items()}
ESCALATION = {level: _l(words) for level, words in contract.ESCALATION_WORDS.items()}
ALARM_KIND = {AlarmKind.SMOKE: _l("烟感报警"), AlarmKind.GAS: _l("燃气泄漏"),
              AlarmKind.DOOR_FORCED: _l("门禁被强行打开"), AlarmKind.WATER_LEAK: _l("漏水"),
              AlarmKind.ELEVATOR_TRAPPED: _l("电梯困人")}
ALARM_SEVERITY = {AlarmSeverity.LOW: _l("低"), AlarmSeverity.MEDIUM: _l("中"),
                  AlarmSeverity.HIGH: _l("高"), AlarmSeverity.CRITICAL: _l("危急")}
VISIT_OUTCOME = {VisitOutcome.RESOLVED: _l("已当场化解"), VisitOutcome.ONGOING: _l("仍在处理"),
                 VisitOutcome.WORSE: _l("情况加重，需要尽快处理")}
# the free-text fields of the grid worker's forms, by the labels they show there
GRID_FIELD = {"summary": _l("简单说说情况"), "where": _l("具体位置"), "note": _l("说明")}
CALL_OUTCOME = {CallOutcome.REACHED: _l("已联系上并告知"), CallOutcome.NOT_REACHED: _l("未联系上")}
# a case's status in the plain words of the grid worker's phone
GRID_STATUS = {
    S.REGISTERED: _l("已收到，等待受理"), S.TRIAGE: _l("正在分派"), S.DISPATCHED: _l("已交给负责单位"),
    S.IN_HANDLING: _l("正在处理"), S.IN_MEDIATION: _l("正在调解"),
    S.AWAITING_FEEDBACK: _l("已处理，等待回访"), S.CLOSED: _l("已办结"), S.REOPENED: _l("重新处理中"),
}
ALARM_STATE = {AlarmState.ALARM: _l("告警中"), AlarmState.CLEARED: _l("已解除")}
ALARM_QUARANTINE_REASON = {QuarantineReason.UNKNOWN_DEVICE: _l("设备未登记"),
                           QuarantineReason.INACTIVE_DEVICE: _l("设备已停用")}
HANDLING = {mode: _l(words) for mode, words in contract.HANDLING_WORDS.items()}
OUTCOME = {outcome: _l(words) for outcome, words in contract.OUTCOME_WORDS.items()}
LINKED_BY = {LinkBasis.PERSON: _l("同一当事人"), LinkBasis.LOCATION: _l("同一地点")}
KPI = {"K-01": _l("矛盾纠纷化解率"), "K-02": _l("群众满意度"), "K-03": _l("二次投诉率"),
       "K-04": _l("群众诉求响应时间"), "K-05": _l("部门响应时间"), "K-06": _l("紧急事项响应时间"),
       "K-07": _l("一般事项响应时间"), "K-08": _l("平均办结周期"), "K-09": _l("办结率"),
       "K-11": _l("预警准确率"), "K-25": _l("按期办结率"), "K-26": _l("按时签收率")}
KPI_UNIT = {"percent": _l("%"), "hours": _l("小时"), "working_days": _l("个工作日"),
            "days": _l("天")}
KPI_STATUS = {"met": _l("达标"), "at_risk": _l("临界"), "missed": _l("未达标"),
              "no_data": _l("无数据")}
FIGURE = {"received": _l("受理"), "closed": _l("办结"), "overdue": _l("超期"),
          "open": _l("在办"), "returns": _l("退单"), "notices": _l("收到督办")}
LIGHT = {Light.GREEN: _l("绿灯"), Light.YELLOW: _l("黄灯"), Light.ORANGE: _l("橙灯"),
         Light.RED: _l("红灯")}
COMPARATOR = {">=": _l("不低于"), "<=": _l("不高于")}
INTERFACE_KIND = {InterfaceKind.PUSH_IN: _l("工单推送"), InterfaceKind.DEVICE: _l("设备告警"),
                  InterfaceKind.APP: _l("移动应用"), InterfaceKind.FEED: _l("事件订阅"),
                  InterfaceKind.SHARE: _l("数据共享")}
DIRECTION = {Direction.IN: _l("接入"), Direction.OUT: _l("推出"), Direction.BOTH: _l("双向")}
INTERFACE_STATUS = {InterfaceStatus.CONNECTED: _l("已接通"), InterfaceStatus.PLANNED: _l("待接入"),
                    InterfaceStatus.DISABLED: _l("已停用")}
ORDER_STATUS = {OrderStatus.REGISTERED: _l("已登记"), OrderStatus.QUARANTINED: _l("待补录"),
                OrderStatus.RESOLVED: _l("已补录")}
CASE_EVENT = {CaseEventKind.REGISTERED: _l("登记"), CaseEventKind.DISPATCHED: _l("派单"),
              CaseEventKind.SIGNED_OFF: _l("签收"), CaseEventKind.PROGRESS: _l("办理进展"),
              CaseEventKind.DEADLINE_NEAR: _l("临近期限"), CaseEventKind.OVERDUE: _l("超期"),
              CaseEventKind.CLOSED: _l("办结"), CaseEventKind.RATED: _l("满意度评价")}
QUARANTINE_REASON = {
    hotline.Reason.UNKNOWN_CATEGORY: _l("诉求类型没有对照的纠纷类型"),
    hotline.Reason.MISSING_FIELD: _l("缺少必填内容"),
    hotline.Reason.BAD_RECEIVED_AT: _l("受理时间无法识别或超出范围"),
    hotline.Reason.ADDRESS_CANDIDATES: _l("事发地址需确认标准地址"),
    hotline.Reason.INVALID_FIELD: _l("内容不符合登记要求"),
}
FLAG = {Flag.THREAT: _l("扬言威胁"), Flag.SELF_HARM: _l("自杀自伤"), Flag.GATHERING: _l("聚集上访"),
        Flag.ROAD_BLOCK: _l("堵路堵门"), Flag.VIOLENCE: _l("暴力冲突"),
        Flag.MASS_WAGE_ARREARS: _l("群体讨薪（10人以上）")}
REVIEW_STATE = {state: _l(words) for state, words in REVIEW_STATE_WORDS.items()}
INTERFACE_FAILURE = {
    "signature:missing_signature": _l("签名缺失"), "signature:bad_timestamp": _l("时间戳无效"),
    "signature:stale_timestamp": _l("时间戳过期（疑似重放或时钟偏差）"),
    "signature:bad_signature": _l("签名不符"), "signature:no_secret": _l("尚未设置密钥"),
    "quarantined:unknown_category": _l("待补录：诉求类型没有对照"),
    "quarantined:missing_field": _l("待补录：缺少必填内容"),
    "quarantined:bad_received_at": _l("待补录：受理时间无法识别或超出范围"),
    "quarantined:address_candidates": _l("待补录：事发地址需确认"),
    "quarantined:invalid_field": _l("待补录：内容不符合登记要求"),
    "unreachable": _l("对方无法连接"), "invalid_input": _l("报文不符合接口要求"),
    QuarantineReason.UNKNOWN_DEVICE: _l("设备未登记"),
    QuarantineReason.INACTIVE_DEVICE: _l("设备已停用"),
}
OUTBOUND = {
    "feed_dispatched": _l("事件推送：派单"), "feed_deadline_near": _l("事件推送：临近期限"),
    "feed_overdue": _l("事件推送：超期"), "feed_closed": _l("事件推送：办结"),
    "feed_rated": _l("事件推送：满意度评价"), "callback_accepted": _l("回告：已受理"),
    "callback_signed_off": _l("回告：已签收"), "callback_progress": _l("回告：办理进展"),
    "callback_result": _l("回告：办理结果"), "callback_satisfaction": _l("回告：满意度"),
}
DIFF_ASPECT = {
    "type": _l("元素类型"), "name": _l("名称"), "documentation": _l("说明"),
    "instructions": _l("办理说明"), "form": _l("表单"), "condition": _l("条件"),
    "timer": _l("计时器"), "multi_instance": _l("多实例"), "loop": _l("循环"),
    "message": _l("消息"), "error": _l("错误事件"), "escalation": _l("升级事件"),
    "signal": _l("信号"), "decision": _l("决策表引用"), "operation": _l("服务操作"),
    "input_entry": _l("决策表输入条件"), "output_entry": _l("决策表输出"),
    "expression": _l("输入表达式"), "text": _l("文本"), "incoming": _l("流入连线"),
    "outgoing": _l("流出连线"), "lane": _l("泳道"), "extensions": _l("扩展属性"),
    "attributes": _l("其他属性"), "called_process": _l("调用的流程"),
    "default_flow": _l("默认分支"), "attached_to": _l("所附任务"),
    "interrupting": _l("是否中断"), "source": _l("起点"), "target": _l("终点"),
}
# the words of workflows/library/elements.py (extracted from there by web/translations/update.py)
ELEMENT_KIND = {kind: _l(words) for kind, words in ELEMENT_WORDS.items()}
FIELD_TYPE = {"string": _l("文本"), "long": _l("整数"), "boolean": _l("是/否"), "date": _l("日期"),
              "enum": _l("下拉选择"), "enums": _l("多项选择"), "textarea": _l("多行文本")}
TIMER_KIND = {"timeDuration": _l("时长"), "timeDate": _l("时间点"), "timeCycle": _l("重复")}
TABLES = {"risk": RISK, "status": STATUS, "tier": TIER, "urgency": URGENCY, "channel": CHANNEL,
          "role": ROLE, "party_role": PARTY_ROLE, "party_kind": PARTY_KIND,
          "wo_role": WORK_ORDER_ROLE, "wo_status": WORK_ORDER_STATUS, "contact": CONTACT,
          "vulnerable": VULNERABLE,
          "satisfaction": SATISFACTION, "category": CATEGORY, "purpose": PURPOSE, "event": EVENT, "chain": CHAIN,
          "process_status": PROCESS_STATUS, "report_kind": REPORT_KIND,
          "place_level": PLACE_LEVEL, "warning_kind": WARNING_KIND, "warning_state": WARNING_STATE,
          "linked_as": LINKED_AS, "linked_by": LINKED_BY, "unit_kind": UNIT_KIND,
          "responsibility": RESPONSIBILITY, "personal_data": PERSONAL_DATA,
          "session_mode": SESSION_MODE,
          "session_status": SESSION_STATUS, "attendance": ATTENDANCE,
          "expert_field": EXPERT_FIELD, "invitation_status": INVITATION_STATUS,
          "conflict": CONFLICT,
          "kpi": KPI, "kpi_unit": KPI_UNIT,
          "kpi_status": KPI_STATUS, "figure": FIGURE, "light": LIGHT, "comparator": COMPARATOR,
          "actor_type": ACTOR_TYPE, "message": MESSAGE, "handling": HANDLING,
          "outcome": OUTCOME, "notice_kind": NOTICE_KIND, "notice": NOTICE,
          "escalation": ESCALATION, "recipient": RECIPIENT, "delivery": DELIVERY, "notice_channel": NOTICE_CHANNEL, "interface_kind": INTERFACE_KIND,
          "direction": DIRECTION, "interface_status": INTERFACE_STATUS,
          "order_status": ORDER_STATUS, "case_event": CASE_EVENT,
          "quarantine_reason": QUARANTINE_REASON, "alarm_kind": ALARM_KIND,
          "alarm_severity": ALARM_SEVERITY, "alarm_state": ALARM_STATE,
          "alarm_quarantine_reason": ALARM_QUARANTINE_REASON,
          "interface_failure": INTERFACE_FAILURE, "outbound": OUTBOUND,
          "visit_outcome": VISIT_OUTCOME, "grid_status": GRID_STATUS, "grid_field": GRID_FIELD,
          "flag": FLAG, "review_state": REVIEW_STATE,
          "diff_aspect": DIFF_ASPECT, "element_kind": ELEMENT_KIND, "field_type": FIELD_TYPE,
          "timer_kind": TIMER_KIND, "legal_basis": LEGAL_BASIS, "legal_path": LEGAL_PATH,
          "call_outcome": CALL_OUTCOME}
# where each table's codes are defined (a label table never invents codes)
CODE_LISTS = {"risk": RiskLevel, "status": CaseStatus, "tier": Tier, "urgency": Urgency,
              "channel": Channel, "role": RoleCode, "party_role": PartyRole,
              "party_kind": PartyKind,
              "wo_role": WorkOrderRole, "wo_status": WorkOrderStatus, "contact": ContactPreference,
              "vulnerable": VULNERABILITIES, "satisfaction": RATINGS, "category": Category,
              "purpose": (*PURPOSES, *RECORDED_PURPOSES, *EXPORT_PURPOSES),
              "event": (*AuditAction, *CHANGES.values(), NOTIFICATION_SENT),
              "chain": (SYSTEM_CHAIN, OUTBOX),
              "process_status": VersionStatus, "report_kind": REPORT_KINDS,
              "place_level": PlaceLevel, "warning_kind": WarningKind, "warning_state": WarningState,
              "linked_as": SubmissionLink, "linked_by": LinkBasis, "unit_kind": UNIT_KINDS,
              "responsibility": RESPONSIBILITIES, "personal_data": PersonalDataKind,
              "actor_type": ACTOR_TYPES, "message": contract.MESSAGES,
              "session_mode": SessionMode, "session_status": SessionStatus,
              "attendance": Attendance, "expert_field": ExpertField,
              "invitation_status": InvitationStatus, "conflict": Conflict,
              "kpi": tuple(KPI_BY_ID), "kpi_unit": KPI_UNITS, "kpi_status": KPI_STATUSES,
              "figure": FIGURES, "light": Light, "comparator": COMPARATORS,
              "handling": contract.HANDLING_MODES, "outcome": contract.OUTCOMES,
              "notice_kind": NoticeKind, "notice": TEMPLATES,
              "escalation": contract.ESCALATION_LEVELS, "recipient": RECIPIENT_TYPES,
              "delivery": DELIVERY_STATES, "notice_channel": NOTICE_CHANNELS,
              "interface_kind": InterfaceKind, "direction": Direction,
              "interface_status": InterfaceStatus, "order_status": OrderStatus,
              "case_event": CaseEventKind, "quarantine_reason": hotline.REASONS,
              "alarm_kind": AlarmKind, "alarm_severity": AlarmSeverity, "alarm_state": AlarmState,
              "alarm_quarantine_reason": QuarantineReason,
              "interface_failure": (*channel_health.FAILURE_REASONS, *QuarantineReason),
              "outbound": feeds.OUTBOUND_TEMPLATES,
              "visit_outcome": VisitOutcome, "grid_status": CaseStatus,
              "grid_field": GRID_TEXT_FIELDS,
              "flag": Flag, "review_state": ReviewState,
              "diff_aspect": bundle_diff.ASPECTS, "element_kind": bundle_diff.ELEMENT_KINDS,
              "field_type": FIELD_TYPES, "timer_kind": bundle_diff.TIMER_TAGS,
              "legal_basis": contract.LEGAL_WINDOW_IDS, "legal_path": LegalPath,
              "call_outcome": CallOutcome}


def label(kind: str, code: object) -> str:
    """The translated label of ``code`` in table ``kind``; unknown codes are shown as they are."""
    if code is None or code == "":
        return "—"
    found = TABLES.get(kind, {}).get(str(code))
    return str(found) if found is not None else str(code)


def notice_label(template: object) -> str:
    """A message of the outbox in words: a notice to people, or a message to another system
    (a callback to the 12345 hotline, a unit's event feed)."""
    return label("outbound" if str(template) in OUTBOUND else "notice", template)


def labels(kind: str, value: object) -> str:
    """``label`` for one code or a list of codes (joined with 、)."""
    if isinstance(value, list | tuple):
        return "、".join(label(kind, v) for v in value) or "—"
    return label(kind, value)


PERIOD = re.compile(r"(statutory|working)_(days|months|hours)\((\d+)\)")
ISO_PERIOD = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?")


def period(spec: object) -> str:
    """A deadline spec in words: 'statutory_days(15)' -> 15日, 'working_days(2)' -> 2个工作日."""
    text = str(spec or "")
    iso = ISO_PERIOD.fullmatch(text)
    if iso and any(iso.groups()):
        days, hours, minutes = iso.groups()
        parts = [_("%(n)s日", n=days) if days else "", _("%(n)s小时", n=hours) if hours else "",
                 _("%(n)s分钟", n=minutes) if minutes else ""]
        return "".join(parts)
    match = PERIOD.fullmatch(text)
    if not match:
        return text or "—"
    kind, unit, n = match.groups()
    if unit == "months":
        return _("%(n)s个月", n=n)
    if unit == "hours":
        return _("%(n)s小时", n=n)
    return _("%(n)s个工作日", n=n) if kind == "working" else _("%(n)s日", n=n)


def instruction_filters(unit_names: dict[str, str]) -> dict:
    """The filters task instructions use to show codes in words: ``label(kind)`` through the
    label tables, ``unit`` through the names of the units in the task data, ``period`` for a
    deadline spec."""
    def unit(value: object) -> str:
        codes = value if isinstance(value, list | tuple) else [value]
        return "、".join(unit_names.get(str(c), str(c)) for c in codes if c) or "—"
    return {"label": lambda value, kind: labels(kind, value), "unit": unit, "period": period}


def choices(kind: str) -> list[tuple[str, str]]:
    """(code, translated label) pairs of a table, for select fields."""
    return [(str(code), str(text)) for code, text in TABLES[kind].items()]
