"""A periodic report for a range of dates in headless Chromium: generated on the reports page,
rates as percentages with the charts, and the printable view (screenshot for docs/)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.workflows import sched_support as S
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data

PASSWORD = "browser-pass-1"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


def test_a_supervisor_prints_a_report_for_a_range(page, committed_services, clock, live_server,
                                                  screenshot_dir, browser_log):
    services = committed_services
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(services.new_uow(), SYSTEM, username="supervisor", password=PASSWORD,
                      roles=["supervisor"], department_code="ZZ", display_name="孙丽")
    departments = [S.department(services, code) for code in ("RS", "ZJ")]
    outcomes = ("R1", "R1", "R2", "R3", "R1", "R1", "R2", "R1")
    for day in range(1, 40):
        opened = local(2025, 1, 1, 9, 0) + timedelta(days=day)
        if day % 3 == 0:
            continue
        closed = opened + timedelta(days=4 + day % 5)
        S.case(services, opened_at=opened, closed_at=closed, status="closed",
               outcome=outcomes[day % len(outcomes)],
               satisfaction="dissatisfied" if day % 7 == 0 else "satisfied",
               category="labour" if day % 2 else "neighbour",
               lead_department_id=departments[day % 2])
    clock.set(local(2025, 3, 20, 10, 0))
    url = live_server(create_app(services.settings, services=services))

    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{url}/reports/")
    page.select_option("#report-kind", "quarterly")
    page.select_option("#report-period", "range")
    page.fill("#report-from", "2025-01-01")
    page.fill("#report-to", "2025-02-28")
    with page.expect_navigation():
        page.locator("[data-testid=generate-report] button[type=submit]").click()
    expect(page.locator("h1")).to_contain_text("2025-01-01 至 2025-02-28")
    expect(page.locator("[data-kpi=K-01]")).to_contain_text("%")
    expect(page.locator("[data-testid=trend-chart]")).to_be_visible()
    with page.expect_navigation():
        page.click("[data-testid=print-view]")
    expect(page.locator("[data-testid=kpi-targets]")).to_contain_text("≥ 80.0%")
    expect(page.locator("[data-testid=bar-chart]")).to_contain_text("区人社局")
    page.emulate_media(media="print")
    expect(page.locator("[data-print]")).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "report-print.png"), full_page=True)
    assert not browser_log.problems()
