"""Channels in headless Chromium: the intake clerk completes a quarantined 12345 order from the
list through the prefilled intake form; the supervisor reads the interface page. Screenshots
for docs/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import Walk
from web import create_app
from workflows.channels import feeds, hotline, mapping
from workflows.channels.health import record_interface_event
from workflows.channels.signing import issue_secret, sign
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"


def _push(services, secret: str, **fields) -> int:
    body = {"order_no": "12345-20250303-0001", "category_text": "物业服务",
            "received_at": (services.clock.now() - timedelta(minutes=40)).isoformat(),
            "content": "小区电梯停运两周，物业不予维修。", "address": "锦绣家园3栋",
            "caller": {"name": "周海燕", "phone": "13912345678"}, **fields}
    raw = json.dumps(body, ensure_ascii=False).encode()
    stamp = str(int(services.clock.now().timestamp()))
    return hotline.receive_order(services, body=raw, timestamp=stamp,
                                 signature=sign(secret, stamp, raw)).status


@pytest.fixture
def base(committed_services, clock, live_server) -> str:
    services = committed_services
    clock.set(datetime(2025, 3, 3, 9, 30, tzinfo=SHANGHAI).astimezone(UTC))
    Walk.ready(services, clock)
    for username, role, unit in (("clerk", "intake_clerk", "ZZ"),
                                 ("supervisor", "supervisor", "ZZ")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code=unit, display_name=f"{role}用户")
    mapping.save_mapping(services.new_uow(), SYSTEM, "hotline_12345", "物业服务", "property")
    secret = issue_secret(services.new_uow(), SYSTEM, "hotline_12345")
    assert _push(services, secret) == 201
    assert _push(services, secret, order_no="12345-20250303-0002",
                 category_text="城市管理", caller={"name": "李建国", "phone": "13800001111"},
                 content="楼下餐馆油烟直排，多次反映未解决。", address="和平路88号") == 202
    assert _push(services, secret, order_no="12345-20250303-0003", caller={}) == 202
    feeds.subscribe(services.new_uow(), SYSTEM, unit_code="ZJ",
                    endpoint_url="https://zj.example.gov.cn/jiefen", kinds=["dispatched"])
    with services.new_uow() as uow:
        record_interface_event(uow, "iot", True)
        uow.commit()
    feeds.fan_out(services)
    clock.advance(minutes=90)   # the IoT gateway has been silent for an hour and a half
    return live_server(create_app(services.settings, services=services))


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def test_the_clerk_completes_a_quarantined_order(page, base, screenshot_dir, browser_log):
    sign_in(page, base, "clerk")
    page.goto(f"{base}/channels/quarantine")
    rows = page.locator("[data-testid=quarantine] tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("诉求类型没有对照的纠纷类型")
    expect(rows.first).to_contain_text("李**")
    expect(rows.nth(1)).to_contain_text("缺少必填内容")
    page.screenshot(path=str(screenshot_dir / "channel-quarantine.png"), full_page=True)
    with page.expect_navigation():
        rows.first.locator("[data-testid=complete-order]").click()
    expect(page.locator("[data-testid=completing-order]")).to_contain_text("12345-20250303-0002")
    expect(page.locator('[name="parties-0-name"]')).to_have_value("李建国")
    expect(page.locator('[name="location-address"]')).to_have_value("和平路88号")
    page.select_option("[name=category]", "neighbour")
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.locator("[data-testid=intake-preview]")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "channel-quarantine-form.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=save]")
    assert "/receipt" in page.url
    page.goto(f"{base}/channels/quarantine")
    expect(page.locator("[data-testid=quarantine] tbody tr")).to_have_count(1)
    assert not browser_log.console_errors and not browser_log.page_errors


def test_the_supervisor_reads_the_interface_page(page, base, screenshot_dir, browser_log):
    sign_in(page, base, "supervisor")
    page.goto(f"{base}/channels/interfaces")
    hotline_row = page.locator("[data-interface=hotline_12345]")
    expect(hotline_row).to_contain_text("已接通")
    expect(hotline_row).to_contain_text("待补录：缺少必填内容")
    expect(page.locator("[data-interface=iot] [data-testid=silent]")).to_be_visible()
    expect(page.locator("[data-interface=feed_ZJ]")).to_contain_text("事件订阅")
    expect(page.locator("[data-testid=sharing-rate]")).to_contain_text("%")
    page.screenshot(path=str(screenshot_dir / "channel-interfaces.png"), full_page=True)
    assert not browser_log.console_errors and not browser_log.page_errors
