"""A new process becomes a case type in headless Chromium: the process owner imports the Camunda
file 校园周边安全整治 and deploys it, maps 高空抛物/治安 to it on the case-types page, a clerk
registers a case of that category, and the 综治中心's handler completes its first step (the
education bureau's handler does not see that step). Screenshots go to docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import Walk
from tests.second_factor_support import enrol_known, give_code_if_asked
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"
CAMPUS = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda" / \
    "campus_safety.bpmn"
PEOPLE = (("owner", "process_owner", None, "流程管理员"), ("clerk", "intake_clerk", "ZZ", "王敏"),
          ("zz", "dept_handler", "ZZ", "林建华（综治中心）"),
          ("ga", "dept_handler", "GA", "李建华（公安）"),
          ("jy", "dept_handler", "JY", "彭建华（教育局）"),
          ("cg", "dept_handler", "CG", "吴建华（城管）"))


@pytest.fixture
def base(committed_services, clock, live_server) -> str:
    Walk.ready(committed_services, clock)
    for username, role, dept, name in PEOPLE:
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                          password=PASSWORD, roles=[role], department_code=dept,
                          display_name=name)
    enrol_known(committed_services, "owner")
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str, services) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    give_code_if_asked(page, services, username)
    page.wait_for_load_state()


def shot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / name), full_page=True)


def test_owner_maps_a_category_and_the_right_unit_works_the_case(
        page, browser_log, base, committed_services, screenshot_dir):
    services = committed_services
    sign_in(page, base, "owner", services)
    page.goto(f"{base}/processes/")
    page.set_input_files("#upload-files", str(CAMPUS))
    with page.expect_navigation():
        page.click("text=上传为草稿")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.click('[data-testid="deploy"]')
    expect(page.locator('[data-testid="deploy-result"]')).to_contain_text("campus_safety v1")

    page.goto(f"{base}/processes/")
    with page.expect_navigation():
        page.click('[data-testid="case-types-link"]')
    page.select_option("[name=category]", "public_order")
    page.select_option("[name=process_id]", "campus_safety")
    page.fill("[name=note]", "校园周边问题按联合整治流程办理")
    with page.expect_navigation():
        page.click('[data-testid="case-type-form"] button[type=submit]')
    row = page.locator('[data-testid="case-type-public_order"]')
    expect(row).to_contain_text("高空抛物/治安")
    expect(row).to_contain_text("校园周边安全整治")
    expect(row).to_contain_text("任何渠道")
    shot(page, screenshot_dir, "process-case-types.png")

    sign_in(page, base, "clerk", services)
    page.goto(f"{base}/cases/new")
    page.select_option("[name=channel]", "counter")
    page.select_option("[name=category]", "public_order")
    page.fill("[name=summary]", "校门口放学时段秩序混乱")
    page.fill("[name=description]", "实验小学门口放学时段摊贩占道、车辆乱停，学生过马路有安全隐患。")
    page.fill('[name="parties-0-name"]', "马德顺")
    page.fill('[name="parties-0-phone"]', "13912341234")
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.locator("[data-testid=case-code]").inner_text().strip()
    assert code.startswith("JF-")

    sign_in(page, base, "jy", services)      # the school step comes later: not theirs yet
    page.goto(f"{base}/inbox")
    expect(page.locator('tr[data-task="Task_assess"]')).to_have_count(0)

    sign_in(page, base, "zz", services)
    page.goto(f"{base}/inbox")
    page.click('tr[data-task="Task_assess"] a[href*="/tasks/"]')
    expect(page.locator('[data-testid=step][data-task="Task_assess"]')).to_be_visible()
    page.fill('[name="plan"]', "公安加强放学时段巡逻，教育局督促学校设护学岗，城管清理占道摊点。")
    shot(page, screenshot_dir, "case-type-first-step.png")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    sign_in(page, base, "jy", services)      # now the education bureau has its step
    page.goto(f"{base}/inbox")
    expect(page.locator('tr[data-task="Task_school"]')).to_have_count(1)
    shot(page, screenshot_dir, "case-type-unit-inbox.png")
    page.goto(f"{base}/cases/{code}")       # the case page: its steps and their deadlines
    expect(page.locator("main")).to_contain_text("督促学校落实安全措施")
    expect(page.locator("main")).to_contain_text("校园周边巡逻管控")
    shot(page, screenshot_dir, "case-type-case-page.png")
    assert not browser_log.problems(), browser_log.problems()
