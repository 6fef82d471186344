"""The administrator's directory screens in headless Chromium: import places, units and accounts
with a preview, browse the place tree, open a unit, create an account and hand over its one-time
password, which then signs in; screenshots for docs/district.md."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.second_factor_support import enrol_known, give_code_if_asked
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data

PASSWORD = "browser-pass-1"
PLACES = ("编码,名称,层级,上级编码,地址\n"
          "LJ,临江区,区,,\n"
          "QS,青山镇,乡镇,LJ,\n"
          "QS-SM,石门村,村,QS,\n"
          "QS-SM-G1,石门村第一网格,网格,QS-SM,\n"
          "QS-SM-G1-B3,石门村3组12号,楼栋,QS-SM-G1,临江区青山镇石门村3组12号\n"
          "BS,白沙镇,乡镇,LJ,\n"
          "BS-HT,河头村,村,BS,\n"
          "CD,城东街道,街道,LJ,\n"
          "CD-XF,幸福社区,社区,CD,\n")
UNITS = ("编码,名称,类型,所在地编码\n"
         "QS-JDTJ,青山镇人民调解委员会,JDTJ,QS\n"
         "QS-ZZ,青山镇综治中心,ZZ,QS\n"
         "QS-SM-SQTJ,石门村人民调解委员会,SQTJ,QS-SM\n"
         "BS-JDTJ,白沙镇人民调解委员会,JDTJ,BS\n"
         "CD-GA,城东派出所,GA,CD\n")
USERS = ("用户名,姓名,角色,单位编码,手机\n"
         "qs_tj1,周明,调解员,QS-JDTJ,13800001111\n"
         "qs_zz1,吴芳,受理员;分流研判员,QS-ZZ,\n"
         "bad user,错行,调解员,NOPE,12345\n")


@pytest.fixture
def site(committed_services, live_server, monkeypatch) -> str:
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(committed_services.new_uow(), SYSTEM, username="admin", password=PASSWORD,
                      roles=["admin"], display_name="孙敏（系统管理员）")
    enrol_known(committed_services, "admin")
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, url: str, username: str, password: str = PASSWORD, services=None) -> None:
    """Sign in; with ``services``, answer the second-factor step of an enrolled account."""
    page.context.clear_cookies()
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    if services is not None:
        give_code_if_asked(page, services, username)


def upload(page, url: str, kind: str, name: str, content: str, tmp_path) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    page.goto(f"{url}/admin/import/?kind={kind}")
    page.set_input_files("input[name=file]", str(path))
    with page.expect_navigation():
        page.click("[data-testid=preview]")


def test_admin_walks_the_directory_screens(page, site, tmp_path, screenshot_dir, browser_log,
                                           committed_services):
    sign_in(page, site, "admin", services=committed_services)
    upload(page, site, "places", "places.csv", PLACES, tmp_path)
    expect(page.get_by_test_id("preview-counts")).to_contain_text("新建 9")
    page.screenshot(path=str(screenshot_dir / "admin-import-preview.png"), full_page=True)
    with page.expect_navigation():
        page.click("[data-testid=confirm]")
    expect(page.get_by_test_id("import-result")).to_contain_text("新建 9")
    upload(page, site, "units", "units.csv", UNITS, tmp_path)
    with page.expect_navigation():
        page.click("[data-testid=confirm]")
    # a users file with a bad row: listed with its row number, nothing imported
    upload(page, site, "users", "users.csv", USERS, tmp_path)
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("第 4 行")
    expect(errors).to_contain_text("用户名不合法")
    expect(errors).to_contain_text("没有编码为 NOPE 的单位")
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "admin-import-errors.png"), full_page=True)
    upload(page, site, "users", "users.csv", USERS.rsplit("bad user", 1)[0], tmp_path)
    with page.expect_navigation():
        page.click("[data-testid=confirm]")
    expect(page.get_by_test_id("import-passwords")).to_contain_text("qs_tj1")

    # the place tree: district -> township, with counts and units
    page.goto(f"{site}/admin/places?code=LJ")
    expect(page.locator("tr[data-place=QS]")).to_contain_text("乡镇")
    page.click("tr[data-place=QS] >> text=青山镇")
    expect(page.get_by_test_id("place-units")).to_contain_text("青山镇人民调解委员会")
    page.screenshot(path=str(screenshot_dir / "admin-places.png"), full_page=True)
    page.fill("#q", "石门")
    with page.expect_navigation():
        page.click("[data-testid=place-search] button")
    expect(page.locator("tr[data-place=QS-SM-G1-B3]")).to_contain_text("临江区 / 青山镇 / 石门村")

    page.goto(f"{site}/admin/units?kind=JDTJ")
    expect(page.locator("tr[data-unit=QS-JDTJ]")).to_contain_text("街道（乡镇）人民调解委员会")
    expect(page.locator("tr[data-unit=QS-JDTJ]")).to_contain_text("临江区 / 青山镇")
    page.screenshot(path=str(screenshot_dir / "admin-units.png"), full_page=True)

    # a new account in 青山镇's mediation committee
    page.goto(f"{site}/admin/units/QS-JDTJ")
    page.click("text=在此单位新建账号")
    page.fill("#f-username", "qs_tj2")
    page.fill("#f-display_name", "郑华")
    page.check("#role-mediator")
    with page.expect_navigation():
        page.click("[data-testid=user-form] button[type=submit]")
    password = page.get_by_test_id("one-time-password").inner_text().strip()
    page.screenshot(path=str(screenshot_dir / "admin-one-time-password.png"), full_page=True)
    page.goto(f"{site}/admin/users?unit=QS-JDTJ")
    expect(page.get_by_test_id("user-list")).to_contain_text("郑华")
    expect(page.get_by_test_id("user-list")).to_contain_text("周明")
    page.screenshot(path=str(screenshot_dir / "admin-users.png"), full_page=True)
    page.click("text=qs_tj1")
    expect(page.locator("#unit option:checked")).to_have_text("青山镇人民调解委员会")
    expect(page.locator("#role-mediator")).to_be_checked()
    expect(page.get_by_test_id("user-facts")).to_contain_text("138****1111")
    page.screenshot(path=str(screenshot_dir / "admin-user.png"), full_page=True)

    sign_in(page, site, "qs_tj2", password)
    expect(page.get_by_test_id("user-menu")).to_contain_text("郑华 · 青山镇人民调解委员会")
    # the one console error is the bad file's preview, answered 422 on purpose
    unexpected = [p for p in browser_log.problems() if "status of 422" not in p]
    assert not unexpected, unexpected
