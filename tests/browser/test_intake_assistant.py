"""The intake assistant in headless Chromium: a clerk types a description, sees the suggested
category, flags and amount in Chinese, takes them, registers; the triage officer sees the red
flag on the case page and confirms it; a supervisor reads the accuracy page. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import Walk
from tests.workflows.test_district_intake import build_district
from web import create_app
from workflows.assistant.suggest import suggest_text
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"
TEXT = ("城西街道某工地三十多名农民工被拖欠工资38.6万元，包工头说临江宏达建筑劳务有限公司没付工程款，"
        "工人们扬言要去区政府讨说法。")


@pytest.fixture
def base(committed_services, clock, live_server) -> str:
    clock.set(datetime(2025, 3, 3, 9, 0, tzinfo=SHANGHAI).astimezone(UTC))
    Walk.ready(committed_services, clock)
    build_district(committed_services)
    for username, role, name in (("clerk", "intake_clerk", "王敏（受理员）"),
                                 ("triage", "triage_officer", "李强（研判员）"),
                                 ("chief", "supervisor", "赵兰（督办员）")):
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                          password=PASSWORD, roles=[role], department_code="ZZ",
                          display_name=name)
    suggest_text("预热")   # the tokenizer and the model load once per process, not in the page's time
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def test_clerk_takes_the_suggestion_and_triage_confirms_the_red_flag(
        page, browser_log, base, screenshot_dir):
    sign_in(page, base, "clerk")
    page.goto(f"{base}/cases/new")
    page.locator("[name=description]").fill(TEXT[:-1])
    page.locator("[name=description]").press_sequentially(TEXT[-1])   # typing asks (debounced)
    result = page.locator("[data-testid=assistant-result]")
    expect(page.locator("[data-testid=assistant-categories]")).to_contain_text(
        "劳资/欠薪（群体或建筑领域）")
    expect(page.locator("[data-testid=assistant-flags]")).to_contain_text("扬言威胁")
    expect(page.locator("[data-testid=assistant-points]")).to_contain_text("386000.00 元")
    expect(result).to_contain_text("临江宏达建筑劳务有限公司")
    page.click("[data-testid=assistant-use-best]")
    page.click("[data-testid=assistant-use-urgent]")
    page.click("[data-testid=assistant-use-amount]")
    expect(page.locator("[name=category]")).to_have_value("labour_collective")
    expect(page.locator("[name=urgency]")).to_have_value("urgent")
    expect(page.locator("[name=amount]")).to_have_value("386000.00")
    page.fill("[name=people_count]", "30")
    page.fill("[name=summary]", "工地农民工集体欠薪")
    page.fill('[name="parties-0-name"]', "韦春生")
    page.select_option('[name="parties-1-kind"]', "organisation")
    page.fill('[name="parties-1-name"]', "临江宏达建筑劳务有限公司")
    page.screenshot(path=str(screenshot_dir / "intake-assistant.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.locator("[data-testid=intake-preview]")).to_be_visible()
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.locator("[data-testid=case-code]").inner_text().strip()

    page.goto(f"{base}/auth/login")
    page.context.clear_cookies()
    sign_in(page, base, "triage")
    page.goto(f"{base}/cases/{code}")
    flags = page.locator("[data-testid=red-flags]")
    expect(flags).to_contain_text("扬言威胁")
    expect(flags).to_contain_text("待复核")
    page.screenshot(path=str(screenshot_dir / "case-red-flag.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=confirm-flag]")
    expect(page.locator("[data-testid=red-flags]")).to_contain_text("确认风险")

    page.context.clear_cookies()
    sign_in(page, base, "chief")
    page.goto(f"{base}/assistant/accuracy")
    expect(page.locator("[data-testid=overall-total]")).to_have_text("1")
    expect(page.locator("[data-testid=overall-top1]")).to_have_text("100.0%")
    expect(page.locator("[data-testid=flags-figures]")).to_contain_text("1（1 / 0）")
    page.screenshot(path=str(screenshot_dir / "assistant-accuracy.png"), full_page=True)
    assert browser_log.problems() == []
