"""An administrator enrols the second factor in headless Chromium (reading the key off the page
and computing the code with pyotp, as an authenticator app would), signs in again with a code,
and resets a colleague's lost factor."""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import expect

from tests.second_factor_support import enrol_known
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data

PASSWORD = "browser-pass-1"


@pytest.fixture
def site(committed_services, live_server) -> str:
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(committed_services.new_uow(), SYSTEM, username="admin", password=PASSWORD,
                      roles=["admin"], display_name="孙敏（系统管理员）")
    admin.create_user(committed_services.new_uow(), SYSTEM, username="auditor1",
                      password=PASSWORD, roles=["auditor"], display_name="郑洁（审计员）")
    enrol_known(committed_services, "auditor1")
    return live_server(create_app(committed_services.settings, services=committed_services))


def _password(page, site: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{site}/auth/login?next=/admin/users")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def test_admin_enrols_and_signs_in_with_a_code(page, site, committed_services, clock,
                                               screenshot_dir, browser_log):
    _password(page, site)
    assert "/auth/enrol" in page.url
    expect(page.get_by_test_id("enrol-required")).to_be_visible()
    expect(page.locator("[data-testid=enrol-qr] svg")).to_be_visible()
    page.goto(f"{site}/admin/users")  # nothing else before enrolling
    assert "/auth/enrol" in page.url
    page.screenshot(path=str(screenshot_dir / "second-factor-enrol.png"), full_page=True)

    secret = page.get_by_test_id("enrol-secret").inner_text().replace(" ", "")
    page.fill("[data-testid=enrol-code]", "000000")
    with page.expect_navigation():
        page.click("[data-testid=enrol-submit]")
    expect(page.get_by_test_id("enrol-error")).to_contain_text("不正确")
    page.fill("[data-testid=enrol-code]", pyotp.TOTP(secret).at(clock.now()))
    with page.expect_navigation():
        page.click("[data-testid=enrol-submit]")
    expect(page.locator("[data-testid=recovery-codes] li")).to_have_count(10)
    page.screenshot(path=str(screenshot_dir / "second-factor-recovery-codes.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=recovery-continue]")
    assert page.url.endswith("/admin/users")

    # next sign-in: the password, then the code of a later time step
    clock.advance(timedelta(seconds=30))
    _password(page, site)
    assert "/auth/factor" in page.url
    page.fill("[data-testid=factor-code]", pyotp.TOTP(secret).at(clock.now()))
    page.screenshot(path=str(screenshot_dir / "second-factor-code.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=factor-submit]")
    assert page.url.endswith("/admin/users")

    # a colleague lost the phone: the administrator resets the factor on the account's page
    page.goto(f"{site}/admin/users/auditor1")
    expect(page.get_by_test_id("user-factor")).to_contain_text("已启用")
    with page.expect_navigation():
        page.click("[data-testid=reset-factor]")
    expect(page.get_by_test_id("user-factor")).to_contain_text("未启用")
    page.screenshot(path=str(screenshot_dir / "second-factor-admin-reset.png"), full_page=True)
    # the wrong code's 422 is the only console complaint
    assert [p for p in browser_log.problems() if "422" not in p] == []
