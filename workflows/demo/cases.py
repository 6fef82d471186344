"""Six sample cases (C01-C06) as demo scripts: intake data plus the steps that
bring each case to a realistic point relative to the moment the demo is loaded."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from workflows.cases.parties import PartyInput
from workflows.intake.register import IntakeRequest

HOUR, DAY, MINUTE = timedelta(hours=1), timedelta(days=1), timedelta(minutes=1)

# Fictional people of the sample cases with valid (GB 11643) fictional ID numbers.
PEOPLE = {
    "刘淑芬": ("110101196203150020", "13812340402"), "陈立伟": ("110101198507200030", "13912340502"),
    "周海燕": ("310101196306060025", "13612340303"), "马德顺": ("510102197803040015", "13712340001"),
    "韦春生": ("450102198001010015", "13712340002"), "杨光荣": ("520102198211110039", "13712340003"),
    "郑雅琪": ("440301199405060024", "13612340930"), "孙永福": ("320102195809090019", "13512340519"),
    "罗建平": ("32010219671212001X", "13312340626"),
    "王桂芳": ("110101195804120041", "13812340301"), "赵磊": ("110101199008230053", "13912340401"),
}


def person(name: str, role: str = "applicant", address: str | None = None,
           **extra: Any) -> PartyInput:
    id_number, phone = PEOPLE[name]
    return PartyInput(name=name, role=role, id_number=id_number, phone=phone, address=address,
                      **extra)


def organisation(name: str) -> PartyInput:
    return PartyInput(name=name, role="respondent", contact_preference="none")


@dataclass
class Step:
    """Complete task ``task`` as ``user`` after ``after`` of clock time (``department``: the kind
    of the co-unit whose order it is); ``task='@rating'`` records the citizen's rating instead,
    ``@invite_expert`` / ``@expert_opinion`` an expert's invitation and written opinion."""

    task: str
    user: str
    data: dict = field(default_factory=dict)
    after: timedelta = timedelta(0)
    department: str | None = None
    wait: bool = False        # the task opens on a timer: move on a day at a time until it does


@dataclass
class Sample:
    """One sample case: when it came in (``ago``), its intake data and its steps."""

    key: str
    title: str
    ago: timedelta
    clerk: str
    place: str                # code of the grid or building (data/places.csv) the case is at
    fields: dict
    steps: list[Step]
    fire_at_end: bool = True

    def request(self, place_id: int | None = None) -> IntakeRequest:
        return IntakeRequest(**self.fields, place_id=place_id)


def _co(dept: str, user: str, after: timedelta = 10 * MINUTE) -> list[Step]:
    return [Step("co_sign_off", user, {"co_sign_off_decision": "accept"}, after, dept),
            Step("co_handle", user, {"co_result": "已按联合派单分工办理", "co_result_status": "done"},
                 2 * HOUR, dept)]


def _register(category: str, urgency: str, people: int, summary: str) -> Step:
    """The clerk's check; ``summary`` is the case's from then on (the intake's, confirmed)."""
    return Step("register", "clerk", {"category": category, "urgency": urgency,
                                      "people_count": str(people), "summary": summary}, 10 * MINUTE)


def _close(lead_user: str, outcome: str, after: timedelta = DAY) -> list[Step]:
    return [Step("submit_result", lead_user, {"outcome": outcome, "result_summary": "已办结"}, after),
            Step("review_result", "triage", {"review_decision": "approve"}, 2 * HOUR),
            Step("@rating", "clerk", {"rating": "satisfied"}, DAY)]


C01 = Sample(
    "C01", "邻里纠纷：卫生间渗漏（调解协议 + 司法确认，已结案）", 36 * DAY, "clerk",
    "990102003001W02B01",  # 东湖街道锦苑小区3栋
    {"channel": "grid_app", "category": "neighbour", "summary": "楼上卫生间渗漏至楼下",
     "description": "东湖街道锦苑小区3栋502室卫生间长期渗漏至402室，天花板霉变、墙皮脱落。402室业主刘淑芬"
                    "多次上门协商未果，要求502室修复防水并赔偿维修费约4000元；502室业主陈立伟认为系公共"
                    "排水立管老化所致，应由物业负责。",
     "parties": [person("刘淑芬", address="东湖街道锦苑小区3栋402室", vulnerable=["elderly"]),
                 person("陈立伟", "respondent", address="东湖街道锦苑小区3栋502室")]},
    [_register("neighbour", "general", 2, "楼上卫生间渗漏至楼下"),
     Step("sign_off", "handler_jdtj", {"sign_off_decision": "accept"}, 2 * HOUR),
     Step("contact_citizen", "handler_jdtj", {"contact_channel": "phone",
                                              "contact_summary": "已电话联系双方"}, 3 * HOUR),
     *_co("WY", "handler_wy"),
     Step("lead_consolidate", "handler_jdtj", {"joint_result": "物业工程师查明为502室防水层老化",
                                               "joint_outcome": "partly_resolved"}, HOUR),
     Step("confirm_consent", "handler_jdtj", {"consent": "both_agree", "consent_note": "双方同意"}, HOUR),
     Step("assign_mediator", "handler_jdtj", {"mediator_id": "mediator",
                                              "mediator_chosen_by": "committee",
                                              "conflict_check": "no_conflict",
                                              "experts_invited": "true"}, HOUR),
     Step("register_mediation", "mediator", {"rights_notice_acknowledged": "true",
                                             "mediation_publicity": "non_public",
                                             "mediation_registration_note": "已登记并告知权利义务"}, HOUR),
     # the first session online, the second in the street's mediation room
     Step("schedule_session", "mediator", {"session_mode": "online", "session_date": "@tomorrow",
                                           "session_start": "09:00", "session_end": "10:00",
                                           "meeting_link": "https://meeting.example.cn/j/2025001"},
          DAY),
     Step("record_attendance", "mediator", {"applicant_attendance": "online",
                                            "respondent_attendance": "phone"}, DAY),
     Step("mediation_session", "mediator", {"session_record": "线上沟通渗漏点，物业工程师参与",
                                            "session_next": "continue"}, 2 * DAY),
     Step("schedule_session", "mediator", {"session_mode": "in_person", "room_code": "RM-DH-01",
                                           "session_date": "@tomorrow", "session_start": "14:00",
                                           "session_end": "16:00"}, DAY),
     # a construction expert of the pool looks at the leak and writes an opinion
     Step("@invite_expert", "mediator", {"expert": "expert_engineer", "shared_note":
                                         "502室卫生间渗漏至402室，物业工程师初查为防水层老化；"
                                         "请就渗漏原因、修复方案和维修费用提出意见。"}, HOUR),
     Step("record_attendance", "mediator", {"applicant_attendance": "in_person",
                                            "respondent_attendance": "in_person"}, DAY),
     Step("@expert_opinion", "expert_engineer", {
         "opinion": "现场查看：502室卫生间地面防水层老化开裂，楼板渗水至402室顶棚，"
                    "渗漏原因在502室。",
         "basis": "《住宅室内防水工程技术规范》（JGJ 298）；《民法典》第二百八十八条（相邻关系）。",
         "recommendation": "由502室重做卫生间防水并修复402室顶棚，维修费用约4000元由502室承担。"},
          2 * HOUR),
     Step("mediation_session", "mediator", {"session_record": "双方就维修和赔偿达成一致",
                                            "session_next": "agreement"}, 3 * DAY),
     Step("choose_agreement_form", "mediator", {"agreement_form": "written"}, HOUR),
     Step("draft_agreement", "mediator", {
         "agreement_facts": "502室卫生间防水层老化，长期渗漏至402室", "agreement_disputed_matters":
         "防水修复责任与维修费用", "agreement_responsibilities": "被申请人承担修复和赔偿责任",
         "agreement_terms": "被申请人修复防水并赔偿申请人维修费4000元", "performance_manner": "银行转账",
         "performance_period": "statutory_days(7)", "jc_intended": "true"}, HOUR),
     Step("sign_agreement", "mediator", {"signing_outcome": "signed", "parties_signed": "true",
                                         "mediator_signed": "true", "committee_sealed": "true",
                                         "agreement_effective_date": "@today"}, DAY),
     Step("prepare_jc", "mediator", {"jc_joint_application": "true", "jc_court": "domicile_court",
                                     "jc_filed_on": "@today"}, 2 * DAY),
     Step("record_jc_decision", "mediator", {"jc_result": "confirmed"}, 5 * DAY),
     Step("performance_check", "mediator", {"performed": "performed",
                                            "performance_note": "已修复并付款"}, 7 * DAY, wait=True),
     *_close("handler_jdtj", "R1", HOUR)])

C02 = Sample(
    "C02", "物业纠纷：电梯停运（联合派单，协办部门待签收）", 5 * HOUR, "clerk",
    "990102004001W02B01",  # 西城街道锦绣家园3栋
    {"channel": "hotline_12345", "category": "property_collective", "people_count": 62,
     "summary": "两部电梯停运两周，业主拒交物业费",
     "description": "锦绣家园3栋两部电梯已停运两周，物业称需业主分摊维修费，部分业主以此为由拒交物业费……",
     "parties": [person("周海燕", address="西城街道锦绣家园3栋"),
                 organisation("恒安物业服务有限公司")]},
    [_register("property_collective", "general", 62, "两部电梯停运两周，业主拒交物业费"),
     Step("sign_off", "handler_zj", {"sign_off_decision": "accept"}, HOUR),
     Step("contact_citizen", "handler_zj", {"contact_channel": "phone",
                                            "contact_summary": "已联系业主代表"}, HOUR),
     *_co("SJ", "handler_sj", 30 * MINUTE)])

C03 = Sample(
    "C03", "集体欠薪（紧急，签收已超时）", 3 * HOUR, "clerk",
    "990102007003W01",  # 新港街道产业园社区第一网格（新港产业园）
    {"channel": "counter", "category": "labour_collective", "urgency": "urgent",
     "people_count": 14, "summary": "14名钢筋工被拖欠工资38.6万元，扬言聚集",
     "description": "我们14名工人在宏基建设承建的新港产业园二期项目做钢筋工，劳务班组长吴某拖欠2025年1月"
                    "至2月工资共计38.6万元……工人表示若本周仍不发放将到项目大门聚集讨薪。",
     "parties": [person("马德顺"), person("韦春生"), person("杨光荣"),
                 organisation("宏基建设工程有限公司")]},
    [_register("labour_collective", "urgent", 14, "14名钢筋工被拖欠工资38.6万元，扬言聚集"),
     Step("confirm_triage", "triage", {"tier": "district", "department": "RS",
                                       "risk_level": "orange", "handling": "labour",
                                       "triage_note": "群体欠薪，维持路由"}, 10 * MINUTE)],
    fire_at_end=False)

C04 = Sample(
    "C04", "个人劳资：经济补偿（调解协议，已归档）", 75 * DAY, "clerk",
    "990102006003W03B01",  # 滨江街道滨江科创园5栋
    {"channel": "portal", "category": "labour", "summary": "解除劳动合同未支付经济补偿",
     "description": "本人在星辰电子科技有限公司工作三年，公司以“业务调整”为由口头通知解除劳动合同……",
     "parties": [person("郑雅琪", contact_preference="sms"),
                 organisation("星辰电子科技有限公司")]},
    [_register("labour", "general", 1, "解除劳动合同未支付经济补偿"),
     Step("sign_off", "handler_jdlt", {"sign_off_decision": "accept"}, HOUR),
     Step("contact_citizen", "handler_jdlt", {"contact_channel": "phone",
                                              "contact_summary": "已联系"}, 4 * HOUR),
     Step("request_evidence", "handler_jdlt", {"evidence_items": "劳动合同、工资流水",
                                               "evidence_status": "received"}, DAY),
     *_co("RS", "handler"),
     Step("lead_consolidate", "handler_jdlt", {"joint_result": "人社已提供咨询",
                                               "joint_outcome": "resolved"}, HOUR),
     Step("register_labour_mediation", "mediator_jdlt", {
         "mediation_application_date": "@today", "trade_union_present": "false",
         "mediation_claims": "经济补偿及离职证明"}, HOUR),
     Step("labour_mediation", "mediator_jdlt", {"labour_mediation_record": "双方同意",
                                                "labour_mediation_result": "agreement"}, 3 * DAY),
     Step("labour_agreement", "mediator_jdlt", {"payment_schedule": "公司10日内支付经济补偿",
                                                "labour_agreement_signed": "true",
                                                "payment_period": "statutory_days(15)"}, HOUR),
     Step("payment_check", "mediator_jdlt", {"agreement_paid": "paid",
                                             "payment_check_note": "已支付"}, 15 * DAY, wait=True),
     *_close("handler_jdlt", "R1")])

C05 = Sample(
    "C05", "房屋征收：评估异议（联合派单办理中）", 2 * DAY, "clerk",
    "990102005001W02B01",  # 东关街道东关片区3号院
    {"channel": "petition_transfer", "category": "expropriation", "urgency": "urgent",
     "summary": "评估面积少算、单价偏低，担心超过复核期限",
     "description": "本人东关片区平房已列入征收范围，5月12日收到分户评估报告，认为建筑面积少算了11平方米……",
     "parties": [person("孙永福", address="东关街道东关片区"), organisation("区房屋征收办公室")]},
    [_register("expropriation", "urgent", 1, "评估面积少算、单价偏低，担心超过复核期限"),
     Step("sign_off", "handler_zj", {"sign_off_decision": "accept"}, HOUR),
     Step("contact_citizen", "handler_zj", {"contact_channel": "visit",
                                            "contact_summary": "上门了解评估异议"}, 2 * HOUR),
     Step("detect_stage", "triage", {"expropriation_stage": "evaluation",
                                     "red_flag_forced_relocation": "false",
                                     "red_flag_blockade": "false"}, HOUR),
     *_co("JD", "handler_jd"), *_co("SF", "handler_sf"), *_co("PG", "handler_pg"),
     *_co("XF", "handler_xf"),
     Step("lead_consolidate", "handler_zj", {"joint_result": "街道走访、司法局释明复核程序",
                                             "joint_outcome": "partly_resolved"}, HOUR)])

C06 = Sample(
    "C06", "房屋征收：计划堵路（红色，领导包案待确认）", 20 * HOUR, "clerk",
    "990102005001W01",  # 东关街道东关社区第一网格
    {"channel": "police_110", "category": "expropriation", "urgency": "urgent", "people_count": 23,
     "summary": "23户不满补偿决定，计划次日堵路",
     "description": "东关片区23户被征收人对6月16日公告的补偿决定不满，已在微信群商议明早7点到东关路口拉横幅、"
                    "堵路表达诉求，情绪激动。",
     "parties": [person("罗建平", address="东关街道东关片区"), organisation("区人民政府")]},
    [_register("expropriation", "urgent", 23, "23户不满补偿决定，计划次日堵路"),
     Step("confirm_triage", "triage", {"tier": "district", "department": "ZJ",
                                       "risk_level": "red", "handling": "expropriation",
                                       "triage_note": "计划次日堵路，定为红色"}, 10 * MINUTE),
     Step("sign_off", "handler_zj", {"sign_off_decision": "accept"}, 30 * MINUTE),
     Step("contact_citizen", "handler_zj", {"contact_channel": "in_person",
                                            "contact_summary": "与代表面谈"}, HOUR)])

C07 = Sample(
    "C07", "邻里纠纷：楼上夜间噪声（已预约调解，协助调解员参加）", DAY, "clerk",
    "990102003001W02B01",  # 东湖街道锦苑小区3栋
    {"channel": "hotline_12345", "category": "neighbour", "summary": "楼上夜间噪声扰民",
     "description": "东湖街道锦苑小区3栋301室住户反映楼上401室近一个月每晚十一点后仍有拖动家具和"
                    "跑跳声，影响家中老人和孩子休息，多次敲门沟通无果，请求社区出面调解。",
     "parties": [person("王桂芳", address="东湖街道锦苑小区3栋301室"),
                 person("赵磊", "respondent", address="东湖街道锦苑小区3栋401室")]},
    [_register("neighbour", "general", 2, "楼上夜间噪声扰民"),
     Step("sign_off", "handler_jdtj", {"sign_off_decision": "accept"}, 30 * MINUTE),
     Step("contact_citizen", "handler_jdtj", {"contact_channel": "phone",
                                              "contact_summary": "已电话联系双方，均同意调解"},
          HOUR),
     *_co("WY", "handler_wy"),
     Step("lead_consolidate", "handler_jdtj", {"joint_result": "物业已提醒401室住户夜间注意",
                                               "joint_outcome": "partly_resolved"}, HOUR),
     Step("confirm_consent", "handler_jdtj", {"consent": "both_agree", "consent_note": "双方同意"},
          30 * MINUTE),
     Step("assign_mediator", "handler_jdtj", {"mediator_id": "mediator",
                                              "mediator_chosen_by": "committee",
                                              "conflict_check": "no_conflict",
                                              "experts_invited": "false"}, 30 * MINUTE),
     Step("register_mediation", "mediator", {"rights_notice_acknowledged": "true",
                                             "mediation_publicity": "non_public",
                                             "mediation_registration_note": "已登记并告知权利义务"},
          30 * MINUTE),
     # booked in the street's mediation room the day after tomorrow; the community's mediator
     # takes part: both find it under 调解安排
     Step("schedule_session", "mediator", {"session_mode": "in_person", "room_code": "RM-DH-01",
                                           "session_date": "@in_2_days", "session_start": "15:00",
                                           "session_end": "16:30"}, 30 * MINUTE),
     Step("@co_mediator", "mediator", {"co_mediator": "donghu01_tj"}, 10 * MINUTE)],
    fire_at_end=False)

SAMPLES: tuple[Sample, ...] = (C04, C01, C02, C03, C05, C06, C07)
