"""Accessibility checks for the browser tests: axe-core (vendored from npm by `make vendor`) run
inside a page, and a small district where each staff role has real work in its inbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from workflows.access.policy import actor_for_user
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "web" / "static" / "vendor" / "axe-core" / "axe.min.js"
PASSWORD = "browser-pass-1"
# What fails a page: axe's two highest impacts (minor and moderate are reported, not fatal).
BLOCKING = ("serious", "critical")
# username -> (role, unit, display name)
STAFF = {
    "clerk": ("intake_clerk", "ZZ", "王敏（受理员）"),
    "triage": ("triage_officer", "ZZ", "赵磊（研判员）"),
    "handler": ("dept_handler", "ZJ", "李强（住建局）"),
    "mediator": ("mediator", "JDTJ", "张秀兰（调解员）"),
    "supervisor": ("supervisor", "ZZ", "孙丽（督办员）"),
    "leader": ("leader", "ZZ", "周建国（分管领导）"),
}

_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '')
                              .replace(/\\s+/g, ' ').slice(0, 160))}));
}"""


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def axe_violations(page) -> list[dict]:
    """Every axe violation on the current page (all impacts). axe is loaded from /static like
    the page's own scripts (the CSP allows 'self' only); no product page links it."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} missing: run `make vendor`")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
    return page.evaluate(_RUN)


def blocking(violations: list[dict]) -> list[str]:
    """One line per serious or critical violation: rule id, impact, what it means, where."""
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {target}"
            for v in violations if v["impact"] in BLOCKING for target in v["targets"]]


@dataclass
class District:
    """Case numbers by what is waiting on them."""

    verify: str       # the clerk's 登记核对
    triage: str       # the triage officer's 确认分流研判 (and the leader's 领导包案 after it)
    sign_off: str     # the handler's 签收或退单 at 住建局
    mediation: str    # the mediator's 安排调解
    report_id: int


def _bind(walk: Walk, services, username: str) -> None:
    role, unit, _name = STAFF[username]
    with services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        walk.users[(role, unit)] = actor_for_user(user)


def build_district(services, clock) -> District:
    """Reference data, the shipped processes, the staff with passwords and four open cases."""
    from workflows.reports import periodic

    clock.set(local(2025, 6, 25, 21, 10))
    walk = Walk.ready(services, clock)
    for username, (role, unit, name) in STAFF.items():
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code=unit, display_name=name)
        _bind(walk, services, username)

    def fresh() -> Walk:
        other = Walk(services, clock)
        other.users = walk.users
        return other

    verify = fresh()
    verify.intake(channel="hotline_12345", category="property_collective", people_count=62,
                  summary="锦绣家园3栋电梯停运两周，业主拒交物业费",
                  description="两部电梯已停运两周，物业称需业主分摊维修费。",
                  parties=[PartyInput(name="周海燕", id_number=IDS["周海燕"], phone="13912345678")])

    triage = fresh()
    triage.intake(channel="counter", category="expropriation", urgency="urgent", people_count=23,
                  summary="23户不满补偿决定，计划明早堵路",
                  description="东关片区23户被征收人对补偿决定不满。",
                  parties=[PartyInput(name="罗建平", id_number=IDS["罗建平"], phone="13300000000"),
                           PartyInput(name="区人民政府", role="respondent")])
    triage.do("register", category="expropriation", urgency="urgent", people_count="23",
              summary="计划堵路表达诉求")
    triage.do("confirm_triage", tier="district", department="ZJ", risk_level="red",
              handling="expropriation", triage_note="计划明早7点堵路，定为红色")

    sign_off = fresh()
    sign_off.intake(channel="counter", category="property_collective", people_count=30,
                    summary="小区地下车库渗水",
                    description="地下车库长期渗水，业主要求物业维修。",
                    parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    sign_off.do("register", category="property_collective", urgency="general",
                people_count="30", summary="小区地下车库渗水")
    # a second, untouched expropriation case keeps 确认分流研判 in the triage officer's inbox
    waiting = fresh()
    waiting.intake(channel="counter", category="expropriation", urgency="urgent", people_count=23,
                   summary="23户对评估结果有异议", description="5户认为评估价偏低。",
                   parties=[PartyInput(name="孙永福", id_number=IDS["孙永福"])])
    waiting.do("register", category="expropriation", urgency="urgent", people_count="23",
               summary="23户对评估结果有异议")

    mediation = fresh()
    mediation.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                     description="锦苑小区3栋502室卫生间长期渗漏至402室。",
                     parties=[PartyInput(name="陈立伟", phone="13812345670"),
                              PartyInput(name="马德顺", role="respondent", phone="13912345670")])
    mediation.do("register", category="neighbour", urgency="general", people_count="2",
                 summary="卫生间渗漏至楼下")
    mediation.do("sign_off", sign_off_decision="accept")
    mediation.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    mediation.do("co_sign_off", "WY", co_sign_off_decision="accept")
    mediation.do("co_handle", "WY", co_result="物业已协助", co_result_status="done")
    mediation.do("lead_consolidate", joint_result="物业协助", joint_outcome="partly_resolved")
    mediation.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    mediation.do("assign_mediator", mediator_id="mediator", mediator_chosen_by="committee",
                  conflict_check="no_conflict", experts_invited="true")
    mediation.do("register_mediation", rights_notice_acknowledged="true",
                 mediation_publicity="non_public", mediation_registration_note="已登记")

    report = periodic.generate_current(services, "monthly", actor=walk.users[("supervisor", "ZZ")])
    return District(verify.case_no or "", waiting.case_no or "", sign_off.case_no or "",
                    mediation.case_no or "", report.id)
