"""At 390 px (a phone) the inbox and the case list show cards, not a squeezed table; the case
list's search box finds a case by a word of its summary and keeps the word; the case page's
header stacks its fields. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_case_flow import summary_on_its_own_row
from tests.browser.test_intake_form import PASSWORD, local
from tests.factories import Walk
from tests.web.test_access_matrix import _actor
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.people import admin


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


def test_a_phone_shows_the_inbox_as_cards_and_finds_a_case_by_a_word(
        page, browser_log, base, screenshot_dir):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{base}/inbox")
    rows = page.locator("[data-testid=inbox] tbody tr")
    expect(rows).to_have_count(2)
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "block"
    expect(page.locator("[data-testid=inbox] thead")).to_be_hidden()
    summary = rows.first.locator("td.jf-card-wide")
    assert summary.bounding_box()["width"] > 250       # a readable line, not a character
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "inbox-390.png"), full_page=True)

    page.goto(f"{base}/cases")
    page.fill("[name=q]", "木工")
    with page.expect_navigation():
        page.click("form[role=search] button[type=submit]")
    expect(page.locator("[data-testid=case-list] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=case-list]")).to_contain_text("十二名木工")
    expect(page.locator("[name=q]")).to_have_value("木工")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "case-list-search-390.png"), full_page=True)

    with page.expect_navigation():
        page.locator("[data-testid=case-list] tbody tr a").first.click()
    summary_on_its_own_row(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert browser_log.problems() == []
