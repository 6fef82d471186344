"""The intake form in headless Chromium: party rows added and removed in the page, organisation
fields, a similar address confirmed among candidates, and the case page with the location and the
vulnerable-party banner. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import Walk
from tests.workflows.test_district_intake import ORG_CODE, build_district
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def base(committed_services, clock, live_server, monkeypatch) -> str:
    clock.set(local(2025, 3, 3, 9, 0))
    Walk.ready(committed_services, clock)
    build_district(committed_services)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="clerk", password=PASSWORD,
                      roles=["intake_clerk"], department_code="ZZ", display_name="王敏")
    return live_server(create_app(committed_services.settings, services=committed_services))


def test_clerk_registers_workers_and_their_employer_at_a_confirmed_address(
        page, browser_log, base, screenshot_dir):
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{base}/cases/new")
    expect(page.locator("[name=received_at]")).to_have_value("2025-03-03T09:00")
    page.select_option("[name=category]", "labour_collective")
    page.fill("[name=people_count]", "3")
    page.fill("[name=amount]", "386000.50")
    page.fill("[name=summary]", "宏基建设拖欠三名钢筋工工资")
    page.fill("[name=description]", "三名钢筋工被拖欠工资，要求结清")
    page.fill('[name="location-address"]', "石门村12栋")
    page.fill('[name="location-detail"]', "工地东门")

    # three workers: the rows are added in the page and start as applicants like the row above
    page.fill('[name="parties-0-name"]', "韦春生")
    page.fill('[name="parties-0-phone"]', "0591-87654321")
    page.check('[name="parties-0-vulnerable-disabled"]')
    page.select_option('[name="parties-1-role"]', "applicant")
    page.fill('[name="parties-1-name"]', "杨光荣")
    page.click("[data-testid=add-party]")
    page.click("[data-testid=add-party]")
    expect(page.locator("fieldset.jf-party")).to_have_count(4)
    expect(page.locator('[name="parties-3-role"]')).to_have_value("applicant")
    page.fill('[name="parties-2-name"]', "马德顺")
    page.locator("fieldset.jf-party").nth(3).locator(".jf-remove-party").click()
    page.click("[data-testid=add-party]")
    page.select_option('[name="parties-3-role"]', "respondent")
    page.select_option('[name="parties-3-kind"]', "organisation")
    expect(page.locator('[name="parties-3-credit_code"]')).to_be_visible()
    expect(page.locator('[name="parties-3-id_number"]')).to_be_hidden()
    page.fill('[name="parties-3-name"]', "宏基建设有限公司")
    page.fill('[name="parties-3-credit_code"]', ORG_CODE)
    shot = str(screenshot_dir / "intake-district.png")
    page.screenshot(path=shot, full_page=True)

    # a similar address: the standard addresses are offered, the clerk picks one
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    candidates = page.locator("[data-testid=address-candidates]")
    expect(candidates).to_contain_text("青山镇石门村12栋")
    page.screenshot(path=str(screenshot_dir / "intake-address-candidates.png"), full_page=True)
    page.check('input[name="location-pick"][value="B_SM12"]')
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.locator("[data-testid=preview-location]")).to_contain_text(
        "示范区 / 青山镇 / 石门村 / 石门村第一网格 / 石门村12栋")
    expect(page.locator("[data-testid=preview-vulnerable]")).to_be_visible()
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.locator("[data-testid=case-code]").inner_text().strip()

    page.goto(f"{base}/cases/{code}")
    expect(page.locator("[data-testid=case-location]")).to_contain_text("青山镇 / 石门村")
    expect(page.locator("[data-testid=case-location]")).to_contain_text("工地东门")
    expect(page.locator("[data-testid=amount]")).to_contain_text("386,000.50 元")
    expect(page.locator("[data-testid=vulnerable-banner]")).to_contain_text("残疾人")
    expect(page.locator("[data-testid=party-name]")).to_have_count(4)
    page.screenshot(path=str(screenshot_dir / "case-district.png"), full_page=True)
    assert browser_log.problems() == []
