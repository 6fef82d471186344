"""An auditor steps through a case in headless Chromium: diagram tokens, deadlines, data, keyboard."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.audit_support import deploy, run_joint_case
from tests.second_factor_support import enrol_known, give_code_if_asked
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "audit-password-1"


@pytest.fixture
def server(committed_services, live_server):
    """A live app on a database with real commits, an auditor account and the joint test case."""
    admin.create_user(committed_services.new_uow(), SYSTEM, username="auditor1",
                      password=PASSWORD, roles=["auditor"], display_name="郑洁（审计员）")
    enrol_known(committed_services, "auditor1")
    app = create_app(committed_services.settings, services=committed_services)
    return live_server(app)


def _sign_in(page, base: str, services) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "auditor1")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    give_code_if_asked(page, services, "auditor1")


def _marker(page, element_id: str, marker: str):
    return page.locator(f'[data-jf-replay] .djs-element[data-element-id="{element_id}"].{marker}')


def _settled(page) -> None:
    """The selected event's state has arrived (replay.js removes data-jf-loading)."""
    expect(page.locator("[data-jf-replay]")).not_to_have_attribute("data-jf-loading", "1")


def _step_to(page, action_text: str) -> None:
    """Press → until the selected event's description contains ``action_text``."""
    for _ in range(80):
        if action_text in page.locator("[data-jf-event]").inner_text():
            return
        page.keyboard.press("ArrowRight")
        _settled(page)
    raise AssertionError(f"never reached {action_text!r}")


def test_auditor_steps_through_branches_and_escalation(page, browser_log, server,
                                                       committed_services, screenshot_dir):
    deploy(committed_services, "audit_joint.bpmn")
    run_joint_case(committed_services, "TEST-J-001")
    _sign_in(page, server, committed_services)

    page.goto(f"{server}/audit/cases/TEST-J-001/replay")
    expect(page.locator(".jf-diagram")).to_have_attribute("data-jf-state", "ready")
    first_seq = page.locator(".jf-replay-steps li").first.get_attribute("data-seq")
    expect(page.locator("[data-jf-position]")).to_have_text(
        re.compile(rf"^序号 {first_seq} · 1 / \d+$"))   # the row's number and its place agree

    # the triage submission opens the joint dispatch: three co-department branches + the lead
    _step_to(page, "完成任务 分流")
    expect(_marker(page, "co_handle", "jf-current")).to_have_count(1)
    expect(_marker(page, "lead_handle", "jf-current")).to_have_count(1)
    expect(_marker(page, "lead_deadline", "jf-current")).to_have_count(1)
    expect(_marker(page, "triage", "jf-done")).to_have_count(1)
    expect(page.locator("[data-jf-deadlines] li")).to_have_text(["办理时限：2025/03/03 13:20"])
    expect(page.locator("[data-jf-data]")).to_contain_text("386000")
    expect(page.locator("[data-jf-ready] li")).to_have_count(4)

    # the deadline passes: the lead task is cancelled and the escalation is current
    _step_to(page, "时限到期")
    expect(_marker(page, "escalate", "jf-current")).to_have_count(1)
    expect(_marker(page, "lead_handle", "jf-current")).to_have_count(0)
    expect(page.locator("[data-jf-deadlines] li")).to_have_text(["无"])
    expect(page.locator("[data-jf-account]")).to_be_hidden()     # no user acted: no 账号
    page.screenshot(path=str(screenshot_dir / "audit-replay.png"), full_page=True)

    # ← goes back one event; End jumps to the last one (the case is closed)
    before = page.locator("[data-jf-replay]").get_attribute("data-jf-seq")
    page.keyboard.press("ArrowLeft")
    expect(page.locator("[data-jf-replay]")).not_to_have_attribute("data-jf-seq", before)
    page.keyboard.press("End")
    expect(_marker(page, "end", "jf-done")).to_have_count(1)
    assert not browser_log.problems(), browser_log.problems()


def test_verify_button_on_the_case_page(page, browser_log, server, committed_services):
    deploy(committed_services, "audit_joint.bpmn")
    run_joint_case(committed_services, "TEST-J-001")
    _sign_in(page, server, committed_services)

    page.goto(f"{server}/audit/cases/TEST-J-001")
    page.get_by_test_id("verify").click()

    expect(page.get_by_test_id("verify-result")).to_have_attribute("data-result", "verified")
    expect(page.get_by_test_id("verify-result")).to_contain_text("9")
    assert not browser_log.problems(), browser_log.problems()


def _c03_goes_on(services, clock, case_no: str) -> None:
    """C03 after `jiefen demo` (its lead sign-off overdue) as the scheduler and its users go on:
    two missed sign-offs (L0 催办, then L1 督办单), the 督办单 answered, the lead signs and the
    case reaches the joint dispatch to the six co-departments."""
    from workflows.demo.cases import Step
    from workflows.demo.loader import play
    from workflows.scheduler.timers import sweep

    clock.advance(minutes=5)
    assert sweep(services).fired >= 1                       # sign-off overdue: L0 reminder
    clock.advance(hours=24, minutes=1)
    assert sweep(services).fired >= 1                       # missed again: L1 督办单
    for step in (Step("issue_supervision", "supervisor", {"supervision_note": "签收超时，立即签收",
                                                          "listed_in_weekly_review": "true"}),
                 Step("reply_supervision", "handler", {"supervision_reply": "值班人员未及时查看",
                                                       "corrective_commitment": "今日签收并联系"}),
                 Step("sign_off", "handler", {"sign_off_decision": "accept"}),
                 Step("contact_citizen", "handler", {"contact_channel": "in_person",
                                                     "contact_summary": "与工人代表面谈"}),
                 Step("request_evidence", "handler", {"evidence_items": "工人名册、工资台账",
                                                      "evidence_status": "partial"})):
        clock.advance(minutes=20)
        play(services, case_no, step)


def test_c03_joint_dispatch_and_escalation(page, browser_log, server, committed_services, clock):
    """C03 from `jiefen demo`: the joint dispatch branches and the escalation on the diagram."""
    demo = pytest.importorskip("workflows.demo.cases", reason="jiefen demo samples not written yet")
    from workflows.demo.loader import load_demo
    from workflows.replay.case_replay import replay_case

    assert any(s.key == "C03" for s in demo.SAMPLES)
    report = load_demo(committed_services)
    case_no = next(line.split()[1] for line in report.cases if line.startswith("C03 "))
    _c03_goes_on(committed_services, clock, case_no)
    assert replay_case(committed_services, case_no, record=False).ok
    _sign_in(page, server, committed_services)
    page.goto(f"{server}/audit/cases/{case_no}/replay")
    expect(page.locator(".jf-diagram")).to_have_attribute("data-jf-state", "ready")

    # the event list is clicked rather than stepped through: the case has some 270 events, and
    # stepping with the keys is the first test's subject
    _click_event(page, "签发督办单：待定 → 就绪")   # sign-off missed twice: the 督办单 waits
    _expect_current_in(page, "escalation")
    _click_event(page, "协办部门工单（并行）：")          # signed off: six co-departments
    _expect_current_in(page, "joint_dispatch")
    # the list names who acted in words (name, role, unit); the account is the 账号 of the
    # selected event alone
    page.locator("li[data-seq]", has_text="（督办员 · ").first.click()
    _settled(page)
    expect(page.locator("[data-jf-account]")).to_be_visible()
    account = page.locator("[data-jf-account-name]").inner_text()
    assert account and account not in page.locator(".jf-replay-steps").inner_text()
    assert not browser_log.problems(), browser_log.problems()


def _click_event(page, text: str) -> None:
    """Select the first event of the list whose line contains ``text``."""
    page.locator("li[data-seq]", has_text=text).first.click()
    _settled(page)
    expect(page.locator("[data-jf-event]")).to_contain_text(text)


def _expect_current_in(page, process: str) -> None:
    """The process is offered for the selected event and its diagram marks current elements."""
    expect(page.locator(f'[data-jf-process] option[value="{process}"]')).to_have_count(1)
    page.select_option("[data-jf-process]", process)
    _settled(page)
    expect(page.locator("[data-jf-replay] .djs-element.jf-current")).not_to_have_count(0)
