"""A supervisor sends a 督办单 by hand from the case page in headless Chromium; when the case
closes, the page shows the notice closed with it instead of "待部门答复"."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.bpmn.test_services_general import close_with_rating, local, registered
from tests.factories import Walk
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin

PASSWORD = "browser-pass-1"


@pytest.fixture
def site(committed_services, clock, live_server) -> tuple[str, Walk]:
    """A noise complaint registered at the centre, waiting for the lead unit's sign-off."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(committed_services, clock)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="supervisor",
                      password=PASSWORD, roles=["supervisor"], department_code="ZZ",
                      display_name="钱伟（督办员）")
    with committed_services.session_factory() as session:
        walk.users[("supervisor", "ZZ")] = actor_for_user(session.scalars(
            select(User).where(User.username == "supervisor")).one())
    registered(walk)
    clock.set(local(2025, 3, 3, 9, 30))
    return live_server(create_app(committed_services.settings, services=committed_services)), walk


def test_supervisor_issues_a_notice_that_closes_with_the_case(page, site, committed_services,
                                                              screenshot_dir, browser_log):
    url, walk = site
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{url}/cases/{walk.case_no}")
    page.click("[data-testid=issue-notice] summary")
    page.select_option("#nt-level", "1")
    page.fill("#nt-reason", "群众三次来电，签收已超时，请说明原因")
    page.screenshot(path=str(screenshot_dir / "manual-notice-form.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=notice-submit]")
    expect(page.locator(".alert-success")).to_contain_text("督办单已发出")
    notices = page.get_by_test_id("case-notices")
    expect(notices).to_contain_text("群众三次来电")
    expect(notices).to_contain_text("待部门答复")

    close_with_rating(committed_services, walk)
    page.reload()
    expect(page.get_by_test_id("notice-closed")).to_contain_text("督办单随案关闭")
    expect(page.get_by_test_id("case-notices")).not_to_contain_text("待部门答复")
    expect(page.get_by_test_id("issue-notice")).to_have_count(0)
    page.locator("[data-testid=deadlines-panel]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "notice-closed-with-case.png"), full_page=True)
    assert browser_log.problems() == []
