"""An older clerk sets 特大字 on 我的账号 in headless Chromium: the inbox text grows by half, the
choice survives signing out and in, the case page and its diagram grow with it and still pass
axe, and at 390 px the inbox still shows cards that fit the screen. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.a11y_support import PASSWORD, axe_violations, blocking, local
from tests.factories import Walk
from tests.web.test_access_matrix import _actor
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.people import admin

SIZE = "getComputedStyle(document.querySelector('[data-testid=inbox] tbody td')).fontSize"


@pytest.fixture
def base(committed_services, clock, live_server) -> str:
    clock.set(local(2025, 3, 3, 9, 0))
    Walk.ready(committed_services, clock)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="clerk", password=PASSWORD,
                      roles=["intake_clerk"], department_code="ZZ", display_name="王敏")
    clerk = _actor(committed_services, "clerk")
    for summary, phone in (("宏基建设拖欠十二名木工工资三十八万六千元", "13912345678"),
                           ("锦绣家园电梯停运两周业主联名投诉", "13787654321")):
        submit_intake(committed_services.new_uow(), clerk, IntakeRequest(
            channel="counter", category="labour_collective", description="详见登记材料。",
            summary=summary, people_count=12,
            parties=[PartyInput(name="韦春生", phone=phone, role="applicant")]))
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def px(page) -> float:
    return float(page.evaluate(SIZE).removesuffix("px"))


def test_extra_large_text_grows_every_page_and_survives_a_new_sign_in(page, browser_log, base,
                                                                      screenshot_dir):
    sign_in(page, base)
    page.goto(f"{base}/inbox")
    standard = px(page)

    page.click("[data-testid=user-menu]")
    with page.expect_navigation():
        page.click("[data-testid=account-link]")
    page.get_by_label("特大字").check()
    with page.expect_navigation():
        page.click("[data-testid=text-size-save]")
    expect(page.locator(".alert")).to_contain_text("字号已保存")
    expect(page.locator("html")).to_have_class("jf-text-xlarge")
    expect(page.get_by_label("特大字")).to_be_checked()
    page.screenshot(path=str(screenshot_dir / "account-text-size.png"), full_page=True)

    page.click("[data-testid=user-menu]")
    with page.expect_navigation():
        page.get_by_role("button", name="退出登录").click()
    expect(page.locator("html")).to_have_class("jf-text-standard")   # signed out: the default
    sign_in(page, base)
    page.goto(f"{base}/inbox")
    assert px(page) == pytest.approx(standard * 1.5)
    assert blocking(axe_violations(page)) == []
    page.screenshot(path=str(screenshot_dir / "inbox-xlarge.png"), full_page=True)
    case_no = page.locator("[data-testid=inbox] tbody tr").first.get_attribute("data-case")
    page.goto(f"{base}/cases/{case_no}")
    expect(page.locator(".jf-diagram")).to_have_attribute("data-jf-state", "ready", timeout=15000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280   # no sideways scroll
    # the diagram grows with the text: a task (100 units wide) opens drawn at 0.75 × 1.5
    current = page.locator(".djs-element.jf-current").first
    assert current.bounding_box()["width"] >= 110
    assert page.locator(".jf-diagram").bounding_box()["height"] == pytest.approx(420 * 1.5, abs=2)
    assert blocking(axe_violations(page)) == []
    page.screenshot(path=str(screenshot_dir / "case-xlarge.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/inbox")
    rows = page.locator("[data-testid=inbox] tbody tr")
    expect(rows).to_have_count(2)
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "block"
    assert rows.first.locator("td.jf-card-wide").bounding_box()["width"] > 200
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "inbox-390-xlarge.png"), full_page=True)
    page.goto(f"{base}/cases")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "case-list-390-xlarge.png"), full_page=True)
    assert browser_log.problems() == []
