"""The district end to end in headless Chromium: the administrator imports a small places, units
and accounts file; a clerk of 青山镇's centre registers a neighbour dispute at a building of the
township; after the registration check it lands in 青山镇人民调解委员会's inbox, not in 白沙镇's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.browser.test_admin_screens import sign_in, upload
from tests.factories import IDS, Walk
from tests.second_factor_support import enrol_known
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"
PLACES = ("编码,名称,层级,上级编码,地址\n"
          "LJ,临江区,区,,\n"
          "QS,青山镇,乡镇,LJ,\n"
          "QS-SM,石门村,村,QS,\n"
          "QS-SM-G1,石门村第一网格,网格,QS-SM,\n"
          "QS-SM-G1-B3,石门村3组12号,楼栋,QS-SM-G1,临江区青山镇石门村3组12号\n"
          "BS,白沙镇,乡镇,LJ,\n")
UNITS = ("编码,名称,类型,所在地编码\n"
         "QS-ZZ,青山镇综治中心,ZZ,QS\n"
         "QS-JDTJ,青山镇人民调解委员会,JDTJ,QS\n"
         "BS-JDTJ,白沙镇人民调解委员会,JDTJ,BS\n")
USERS = ("用户名,姓名,角色,单位编码,手机\n"
         "qs_clerk,吴芳,受理员,QS-ZZ,\n"
         "qs_handler,周明,承办人,QS-JDTJ,13800001111\n"
         "bs_handler,陈静,承办人,BS-JDTJ,\n")


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def site(committed_services, clock, live_server, monkeypatch) -> str:
    clock.set(local(2025, 3, 3, 9, 0))
    Walk.ready(committed_services, clock)   # reference data and the shipped processes
    admin.create_user(committed_services.new_uow(), SYSTEM, username="admin", password=PASSWORD,
                      roles=["admin"], display_name="孙敏（系统管理员）")
    enrol_known(committed_services, "admin")
    return live_server(create_app(committed_services.settings, services=committed_services))


def _import(page, site, tmp_path) -> dict[str, str]:
    for kind, content in (("places", PLACES), ("units", UNITS), ("users", USERS)):
        upload(page, site, kind, f"{kind}.csv", content, tmp_path)
        expect(page.get_by_test_id("import-errors")).to_have_count(0)
        with page.expect_navigation():
            page.click("[data-testid=confirm]")
        expect(page.get_by_test_id("import-result")).to_be_visible()
    rows = page.locator("[data-testid=import-passwords] tr[data-username]")
    return {rows.nth(i).get_attribute("data-username"):
            rows.nth(i).get_by_test_id("import-password").inner_text().strip()
            for i in range(rows.count())}


def test_a_case_at_a_township_building_reaches_the_townships_committee(
        page, browser_log, site, tmp_path, screenshot_dir, committed_services):
    sign_in(page, site, "admin", services=committed_services)
    passwords = _import(page, site, tmp_path)
    assert set(passwords) == {"qs_clerk", "qs_handler", "bs_handler"}

    sign_in(page, site, "qs_clerk", passwords["qs_clerk"])
    page.goto(f"{site}/cases/new")
    page.select_option("[name=category]", "neighbour")
    page.fill("[name=summary]", "楼上卫生间渗漏")
    page.fill("[name=description]", "楼上卫生间渗漏到楼下，协商未果")
    page.fill('[name="location-address"]', "临江区青山镇石门村3组12号")
    page.fill('[name="parties-0-name"]', "刘淑芬")
    page.fill('[name="parties-0-id_number"]', IDS["刘淑芬"])
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.get_by_test_id("preview-location")).to_contain_text(
        "临江区 / 青山镇 / 石门村 / 石门村第一网格 / 石门村3组12号")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.get_by_test_id("case-code").inner_text().strip()

    page.goto(f"{site}/inbox")
    page.click(f'tr[data-case="{code}"][data-task="register"] a[href*="/tasks/"]')
    # the registration check starts from what the clerk typed at intake: nothing asked twice
    expect(page.locator("[name=summary]")).to_have_value("楼上卫生间渗漏")
    expect(page.locator("[name=category]")).to_have_value("neighbour")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    sign_in(page, site, "qs_handler", passwords["qs_handler"])
    row = page.locator(f'[data-testid=inbox] tr[data-case="{code}"][data-task="sign_off"]')
    expect(row).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "district-township-inbox.png"), full_page=True)
    page.goto(f"{site}/cases/{code}")
    expect(page.get_by_test_id("case-location")).to_contain_text("青山镇 / 石门村")
    expect(page.locator("body")).to_contain_text("青山镇人民调解委员会")

    sign_in(page, site, "bs_handler", passwords["bs_handler"])
    expect(page.locator(f'[data-testid=inbox] tr[data-case="{code}"]')).to_have_count(0)
    assert page.goto(f"{site}/cases/{code}").status == 403
    assert browser_log.problems() == [] or all("status of 403" in p
                                               for p in browser_log.problems())
