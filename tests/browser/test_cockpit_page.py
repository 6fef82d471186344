"""The leaders' cockpit in headless Chromium: a district leader opens it, switches the period,
clicks a KPI tile and lands on the list of exactly the cases behind it; screenshots for docs/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.district_fixtures import build_district
from tests.factories import seed
from tests.kpi_fixtures import build_month
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"


@pytest.fixture
def base(committed_services, clock, live_server) -> str:
    services = committed_services
    clock.set(datetime(2025, 3, 28, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    seed(services)
    build_month(services, build_district(services))
    admin.create_user(services.new_uow(), SYSTEM, username="leader", password=PASSWORD,
                      roles=["leader"], department_code="ZZ", display_name="周建国")
    return live_server(create_app(services.settings, services=services))


def test_a_leader_switches_the_period_and_drills_into_a_tile(page, base, screenshot_dir,
                                                             browser_log):
    url = base
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", "leader")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    with page.expect_navigation():
        page.get_by_role("link", name="驾驶舱").click()
    expect(page.locator("[data-testid=cockpit-period]")).to_have_text("2025-03-01 至 2025-03-31")
    tile = page.locator("[data-kpi=K-01]")
    expect(tile).to_have_attribute("data-status", "missed")
    expect(tile).to_contain_text("33.3%")
    expect(tile).to_contain_text("矛盾纠纷化解率")
    expect(page.locator("#trend-volume canvas").first).to_be_visible()
    tiles_text = page.locator("[data-testid=kpi-tiles]").inner_text()
    assert not re.search(r"K-\d\d|percent|working_days|no_data|at_risk", tiles_text)
    page.screenshot(path=str(screenshot_dir / "cockpit.png"), full_page=True)

    with page.expect_navigation():
        page.locator("[data-period=quarter]").click()
    expect(page.locator("[data-testid=cockpit-period]")).to_have_text("2025-01-01 至 2025-03-31")
    with page.expect_navigation():
        page.locator("[data-period=month]").click()
    denominator = page.locator("[data-kpi=K-01]").inner_text()
    assert "3 件" in denominator
    with page.expect_navigation():
        page.locator("[data-testid=tile-K-01]").click()
    assert "/cases?kpi=K-01" in page.url
    expect(page.locator("[data-testid=drill-total]")).to_have_text("共 3 件")
    expect(page.locator("[data-testid=case-list] tbody tr")).to_have_count(3)
    expect(page.locator("[data-testid=drill-caption]")).to_contain_text("矛盾纠纷化解率")
    page.screenshot(path=str(screenshot_dir / "cockpit-drill-down.png"), full_page=True)
    assert not browser_log.console_errors and not browser_log.page_errors
