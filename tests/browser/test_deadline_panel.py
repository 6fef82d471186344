"""The case page's 时限 and 通知送达 panels in headless Chromium: the handler asks for a suspension,
a supervisor approves it, the page stays within the viewport; screenshots for docs/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.notify.delivery import deliver_pending
from workflows.people import admin

PASSWORD = "browser-pass-1"
USERS = (("jdtj_handler", "dept_handler", "JDTJ", "赵敏（东湖街道调委会）"),
         ("supervisor", "supervisor", "ZZ", "钱伟"))


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def base(committed_services, clock, live_server) -> tuple[str, str]:
    """A neighbour dispute (lead JDTJ, co 物业 WY) in mediation handling: its resolution clock
    runs; notifications delivered once (file channel sent, SMS not configured)."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(committed_services, clock)
    for username, role, dept, name in USERS:
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                          password=PASSWORD, roles=[role], department_code=dept,
                          display_name=name)
        walk.users[(role, dept)] = _actor(walk, username)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="东湖街道锦苑小区3栋502室卫生间长期渗漏至402室……",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678",
                                    contact_preference="sms"),
                         PartyInput(name="陈立伟", role="respondent", id_number=IDS["陈立伟"],
                                    phone="13912345678")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    clock.set(local(2025, 3, 3, 14, 0))
    walk.do("sign_off", sign_off_decision="accept")
    clock.set(local(2025, 3, 4, 10, 0))
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系双方")
    clock.set(local(2025, 3, 4, 10, 5))
    deliver_pending(committed_services)
    clock.set(local(2025, 3, 5, 9, 30))
    url = live_server(create_app(committed_services.settings, services=committed_services))
    return url, walk.case_no


def _actor(walk: Walk, username: str):
    from sqlalchemy import select

    from workflows.access.policy import actor_for_user
    from workflows.models import User

    with walk.services.session_factory() as session:
        return actor_for_user(session.scalars(select(User).where(User.username == username)).one())


def sign_in(page, url: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def fits(page) -> bool:
    """Nothing wider than the viewport (no horizontal scrolling of the whole page)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_suspension_requested_and_approved_in_the_browser(page, base, screenshot_dir,
                                                         browser_log):
    url, case_no = base
    sign_in(page, url, "jdtj_handler")
    page.goto(f"{url}/cases/{case_no}")
    panel = page.locator("[data-testid=deadlines-panel]")
    clock_row = panel.locator('tr[data-source="clock"][data-kind="resolution"]')
    expect(clock_row).to_contain_text("2025-04-08 00:00")
    page.click(".jf-deadline-request summary")
    page.select_option("#dl-request-kind", "suspend")
    page.fill("#dl-reason", "等待房屋渗漏司法鉴定结论")
    with page.expect_navigation():
        page.click("[data-testid=deadline-request] button[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(panel.locator("[data-testid=deadline-requests]")).to_contain_text("待审批")

    sign_in(page, url, "supervisor")
    page.goto(f"{url}/cases/{case_no}")
    page.fill("[data-testid=deadline-decide] [name=note]", "同意，鉴定期间中止计时")
    with page.expect_navigation():
        page.click("[data-testid=deadline-decide] button[value=approve]")
    expect(clock_row).to_have_attribute("data-state", "paused")
    expect(clock_row).to_contain_text("已中止")
    notifications = page.locator("[data-testid=notifications]")
    expect(notifications).to_contain_text("已发送")
    expect(notifications).not_to_contain_text("138")
    assert fits(page)
    panel.scroll_into_view_if_needed()
    page.locator("section[aria-labelledby=h-deadlines]").screenshot(
        path=str(screenshot_dir / "case-deadlines.png"))
    page.locator("section[aria-labelledby=h-notifications]").screenshot(
        path=str(screenshot_dir / "case-notifications.png"))
    page.set_viewport_size({"width": 420, "height": 900})           # a phone
    assert fits(page)
    assert not browser_log.console_errors and not browser_log.page_errors
