"""The call list (待回电) in headless Chromium (zh-CN): a labour award's reminder on day 10 went to a
worker who prefers the phone; the triage officer sees the 待回电 tab with its count in the inbox,
opens the list (case code, masked name and number, what to tell with the article and the last
day), reveals the number (audited) and records the call as done. Screenshots go to
docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from engine.deadlines import SHANGHAI
from engine.models import AuditEvent
from tests.factories import Walk
from tests.workflows.test_call_tasks import reminded
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"
PHONE = "13812345678"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(committed_services, clock) -> Walk:
    clock.set(local(2025, 9, 22, 9, 0))
    return Walk.ready(committed_services, clock)


@pytest.fixture
def base(walk, committed_services, live_server) -> str:
    admin.create_user(committed_services.new_uow(), SYSTEM, username="triage", password=PASSWORD,
                      roles=["triage_officer"], department_code="ZZ", display_name="孙磊")
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def reveals(services) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "party_unmasked"))


def test_a_handler_calls_the_citizen_from_the_call_list(page, browser_log, base, walk,
                                                        committed_services, screenshot_dir):
    code = reminded(walk)
    sign_in(page, base, "triage")
    page.goto(f"{base}/inbox")
    tab = page.locator("[data-testid=calls-tab]")
    expect(tab).to_contain_text("待回电")
    expect(page.locator("[data-testid=call-count]")).to_have_text("3")   # receipt, guidance, T-07
    with page.expect_navigation():
        tab.click()
    row = page.locator(f'tr[data-case="{code}"]', has=page.locator("text=第48—50条"))
    expect(row).to_contain_text("刘**")
    expect(row.locator("[data-testid=masked-phone]")).not_to_contain_text(PHONE)
    script = row.locator("[data-testid=call-script]")
    expect(script).to_contain_text("起诉期限提示")
    expect(script).to_contain_text("劳动争议调解仲裁法第48—50条")
    expect(script).to_contain_text("届满：2025-10-09")
    page.screenshot(path=str(screenshot_dir / "call-list.png"), full_page=True)

    with page.expect_navigation():
        row.locator("[data-testid=reveal-phone]").click()
    row = page.locator(f'tr[data-case="{code}"]', has=page.locator("text=第48—50条"))
    expect(row.locator("[data-testid=revealed-phone]")).to_have_text(PHONE)
    assert reveals(committed_services) == 1
    row.locator('input[name=outcome][value=reached]').check()
    row.locator("textarea[name=note]").fill("已告知10月9日前可向法院起诉，当事人表示会去咨询")
    row.screenshot(path=str(screenshot_dir / "call-list-revealed.png"))
    with page.expect_navigation():
        row.locator("[data-testid=call-done]").click()
    expect(page.locator(".alert-success")).to_contain_text("已记录回电结果")
    expect(page.locator("[data-testid=call-count]")).to_have_text("2")
    expect(page.locator(f'tr[data-case="{code}"]', has=page.locator("text=第48—50条"))).to_have_count(0)
    expect(page.locator("body")).not_to_contain_text(PHONE)
    page.screenshot(path=str(screenshot_dir / "call-list-done.png"), full_page=True)
    assert not browser_log.problems(), browser_log.problems()
