"""Sample case C02 in headless Chromium: the clerk registers it, the lead department's handler signs
off and handles it, the citizen's rating is recorded, the case closes; the diagram shows the path;
the pages work in Chinese and English. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"
C02_TEXT = ("锦绣家园3栋两部电梯已停运两周，物业称需业主分摊维修费，部分业主以此为由拒交物业费，"
            "物业公司表示将起诉欠费业主。楼内有多名高龄老人出行困难，业主要求尽快恢复运行并明确维修费用承担。")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(committed_services, clock) -> Walk:
    clock.set(local(2025, 7, 4, 8, 40))  # C02: 12345, Fri 2025-07-04 08:40
    return Walk.ready(committed_services, clock)


@pytest.fixture
def base(walk, committed_services, live_server) -> str:
    """The live app with a clerk of the district centre and a handler of 住建局 (ZJ)."""
    for username, role, dept, name in (("clerk", "intake_clerk", "ZZ", "王敏"),
                                       ("zj_handler", "dept_handler", "ZJ", "李强（住建局）")):
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                          password=PASSWORD, roles=[role], department_code=dept,
                          display_name=name)
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def shot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / name), full_page=True)


def summary_on_its_own_row(page) -> None:
    """The case header's 摘要: its label at the left edge like 类型, below 当前环节, the text
    beside it (wide screen) or under it (phone), never in the right half of 当前环节's row."""
    fields = page.locator(".jf-case-header ~ dl")
    box = {word: fields.locator("dt", has_text=word).first.bounding_box()
           for word in ("类型", "当前环节", "摘要")}
    text = page.get_by_test_id("case-summary").bounding_box()
    assert box["摘要"]["x"] == box["类型"]["x"], box
    assert box["摘要"]["y"] >= box["当前环节"]["y"] + box["当前环节"]["height"], box
    wide = page.viewport_size["width"] >= 576
    if wide:
        assert text["x"] > box["摘要"]["x"] and abs(text["y"] - box["摘要"]["y"]) < 4, (box, text)
    else:
        assert text["x"] == box["摘要"]["x"] and text["y"] > box["摘要"]["y"], (box, text)


def complete_step(page, bpmn_id: str, fill: dict[str, str], choose: dict[str, str]) -> None:
    """On the inbox, open the task and submit its form."""
    page.click(f'tr[data-task="{bpmn_id}"] a[href*="/tasks/"]')
    expect(page.locator(f'[data-testid=step][data-task="{bpmn_id}"]')).to_be_visible()
    for name, value in choose.items():
        page.select_option(f'[name="{name}"]', value)
    for name, value in fill.items():
        page.fill(f'[name="{name}"]', value)
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()


def register_c02(page, base: str, screenshot_dir) -> str:
    page.goto(f"{base}/cases/new")
    page.select_option("[name=channel]", "hotline_12345")
    page.fill("[name=channel_ref]", "12345-20250704-0038")
    page.select_option("[name=category]", "property_collective")
    page.fill("[name=people_count]", "62")
    page.fill("[name=summary]", "锦绣家园3栋电梯停运两周，业主拒交物业费")
    page.fill("[name=description]", C02_TEXT)
    page.fill('[name="parties-0-name"]', "周海燕")
    page.fill('[name="parties-0-id_number"]', IDS["周海燕"])
    page.fill('[name="parties-0-phone"]', "13912345678")
    page.fill('[name="parties-0-address"]', "示范区西城街道锦绣家园3栋")
    page.check('[name="parties-0-vulnerable-elderly"]')
    page.fill('[name="parties-1-name"]', "恒安物业服务有限公司")
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.locator('[data-testid=intake-preview][data-kind="new"]')).to_be_visible()
    shot(page, screenshot_dir, "intake-preview.png")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.locator("[data-testid=case-code]").inner_text().strip()
    assert code.startswith("JF-2025-")
    shot(page, screenshot_dir, "receipt.png")
    return code


def handle_between(walk: Walk) -> None:
    """The co-departments, the lead's consolidation and the mediation, through the services."""
    for dept in ("SJ", "JD", "SQTJ"):
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
    walk.do("co_handle", "SJ", co_result="电梯已由特检院检验，需更换曳引机", co_result_status="done")
    walk.do("co_handle", "JD", co_result="街道已召集业主代表座谈", co_result_status="done")
    walk.do("co_handle", "SQTJ", co_result="社区调委会已介入", co_result_status="done")
    walk.do("lead_consolidate", joint_result="电梯已检验，费用分摊方案待调解",
            joint_outcome="partly_resolved")
    walk.do("confirm_consent", consent="both_agree", consent_note="业主代表与物业均同意调解")
    # the mediator sits in the lead unit: the projection gives mediation tasks the lead's department
    walk.do("assign_mediator", mediator_id=walk.user("mediator", "ZJ").username,
            mediator_chosen_by="committee", conflict_check="no_conflict", experts_invited="true")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="non_public", mediation_registration_note="登记")
    walk.session("物业承担维修费六成，业主补缴物业费", "agreement")
    walk.do("choose_agreement_form", agreement_form="oral")
    walk.do("record_oral_agreement", oral_agreement_content="物业7日内修复电梯，业主补缴物业费",
            agreement_effective_date="2025-07-04", performance_period="statutory_days(7)")
    walk.until(local(2025, 7, 18, 9, 0))
    walk.do("performance_check", performed="performed", performance_note="电梯已恢复运行")


def test_c02_from_registration_to_closure(page, browser_log, base, walk, screenshot_dir):
    sign_in(page, base, "clerk")
    shot(page, screenshot_dir, "inbox-empty.png")
    code = register_c02(page, base, screenshot_dir)
    walk.case_no = code
    page.goto(f"{base}/inbox")
    complete_step(page, "register", {"people_count": "62", "summary": "电梯停运两周，业主拒交物业费"},
                  {"category": "property_collective", "urgency": "general"})

    sign_in(page, base, "zj_handler")
    expect(page.locator(f'[data-testid=inbox] tr[data-case="{code}"][data-task="sign_off"]')) \
        .to_be_visible()
    shot(page, screenshot_dir, "inbox.png")
    page.click('tr[data-task="sign_off"] a[href*="/tasks/"]')
    expect(page.locator("[data-testid=instructions]")).to_be_visible()
    expect(page.locator("[data-testid=next-steps]")).to_be_visible()
    shot(page, screenshot_dir, "task-step.png")
    page.select_option("[name=sign_off_decision]", "accept")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    page.goto(f"{base}/inbox")
    complete_step(page, "contact_citizen", {"contact_summary": "已电话联系业主代表周女士"},
                  {"contact_channel": "phone"})

    page.goto("about:blank")  # nothing in flight while the server's clock jumps a week
    handle_between(walk)
    sign_in(page, base, "zj_handler")  # a week has passed: the old session timed out
    page.goto(f"{base}/cases/{code}/dispatch")
    expect(page.locator('[data-testid=work-orders] tr[data-role="co"]')).to_have_count(3)
    shot(page, screenshot_dir, "joint-dispatch.png")
    page.goto(f"{base}/inbox")
    complete_step(page, "submit_result",
                  {"result_summary": "电梯已修复并恢复运行；物业费分摊达成口头协议并已履行"},
                  {"outcome": "R1"})
    walk.do("review_result", review_decision="approve")

    sign_in(page, base, "clerk")
    page.goto(f"{base}/cases/{code}")
    page.click("[data-testid=record-rating]")
    page.select_option("[name=rating]", "satisfied")
    page.select_option("[name=source]", "sms_link")
    page.fill("[name=comment]", "电梯修好了，谢谢")
    shot(page, screenshot_dir, "satisfaction.png")
    with page.expect_navigation():
        page.click("[data-testid=submit-rating]")
    expect(page.locator("[data-testid=case-status]")).to_have_attribute("data-status", "closed")
    expect(page.locator("[data-testid=satisfaction]")).to_have_text("满意")
    summary_on_its_own_row(page)        # closed: 结案时间 and 满意度 join the half-width fields

    diagram = page.locator(".jf-diagram")
    expect(diagram).to_have_attribute("data-jf-state", "ready", timeout=15000)
    assert int(diagram.get_attribute("data-jf-completed")) >= 10
    for element in ("register", "sign_off", "contact_citizen", "handle", "submit_result"):
        expect(page.locator(f'.djs-element[data-element-id="{element}"].jf-done')).to_have_count(1)
    expect(page.locator("[data-testid=party-name]").first).to_have_text("周**")
    shot(page, screenshot_dir, "case.png")
    diagram.screenshot(path=str(screenshot_dir / "case-diagram.png"))

    page.click("text=语言")
    with page.expect_navigation():
        page.click("button[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("[data-testid=case-status]")).to_have_text("Closed")
    expect(page.locator("#h-orders")).to_contain_text("Work orders")
    expect(diagram).to_have_attribute("data-jf-state", "ready", timeout=15000)
    shot(page, screenshot_dir, "case-en.png")
    assert not browser_log.problems(), browser_log.problems()


def test_sign_in_page_and_failed_sign_in(page, browser_log, base, screenshot_dir):
    page.goto(f"{base}/auth/login")
    shot(page, screenshot_dir, "login.png")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "wrong-password-1")
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    expect(page.locator("[data-testid=login-error]")).to_have_text("用户名或密码不正确。")
    # the refused sign-in answers 401, which Chromium logs; anything else is a problem
    problems = [p for p in browser_log.problems() if "status of 401" not in p]
    assert not problems, problems


def test_the_case_diagram_opens_readable_on_the_current_step(page, browser_log, base, walk,
                                                             screenshot_dir):
    from workflows.cases.parties import PartyInput

    code = walk.intake(channel="hotline_12345", category="property_collective",
                       summary="电梯停运两周", description=C02_TEXT,
                       parties=[PartyInput(name="周桂英", id_number=IDS["刘淑芬"],
                                           phone="13812345678")])
    walk.do("register", category="property_collective", urgency="general", people_count="62",
            summary="电梯停运两周")
    sign_in(page, base, "clerk")
    page.goto(f"{base}/cases/{code}")
    diagram = page.locator(".jf-diagram")
    expect(diagram).to_have_attribute("data-jf-state", "ready", timeout=15000)
    current = page.locator(".djs-element.jf-current").first
    frame, shape = diagram.bounding_box(), current.bounding_box()
    # the whole process fitted into the page would draw a task ~30 px wide: it opens readable,
    # with the current step inside the visible frame
    assert shape["width"] >= 70
    assert frame["x"] <= shape["x"] and shape["x"] + shape["width"] <= frame["x"] + frame["width"]
    assert frame["y"] <= shape["y"] and shape["y"] + shape["height"] <= frame["y"] + frame["height"]
    diagram.screenshot(path=str(screenshot_dir / "case-diagram-zoom.png"))
    page.click("[data-jf-zoom=in]")
    assert current.bounding_box()["width"] > shape["width"] * 1.2
    page.click("[data-jf-zoom=fit]")
    assert current.bounding_box()["width"] < shape["width"]
    expect(page.locator("[data-jf-zoom=out]")).to_have_attribute("title", "缩小")
    assert not browser_log.problems(), browser_log.problems()
