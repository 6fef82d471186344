"""The grid worker's phone at 390 × 844: sign in, report an issue at a building of the grid with
a photo, see it in "my reports" with its status in plain words, record a follow-up visit."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_admin_screens import sign_in
from tests.browser.test_district_flow import local
from tests.factories import Walk
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.models import Department, Place
from workflows.people import admin

PASSWORD = "browser-pass-1"
PLACES = (("LJ", "临江区", "district", None), ("QS", "青山镇", "township", "LJ"),
          ("QS-SM", "石门村", "village", "QS"), ("QS-SM-G1", "石门村第一网格", "grid", "QS-SM"),
          ("QS-SM-G1-B3", "石门村3组12号", "building", "QS-SM-G1"),
          ("QS-SM-G1-B4", "石门村3组14号", "building", "QS-SM-G1"))


@pytest.fixture
def site(committed_services, clock, live_server) -> str:
    clock.set(local(2025, 3, 3, 9, 0))
    Walk.ready(committed_services, clock)
    with committed_services.new_uow() as uow:
        rows: dict[str, Place] = {}
        for code, name, level, parent in PLACES:
            place = Place(code=code, name=name, level=level,
                          parent_id=rows[parent].id if parent else None)
            uow.session.add(place)
            uow.session.flush()
            place.path = (rows[parent].path if parent else "/") + f"{place.id}/"
            rows[code] = place
        uow.session.add(Department(code="QS-SM-WG1", name="石门村第一网格工作站", kind="WG",
                                   tier="community", place_id=rows["QS-SM-G1"].id,
                                   responsibilities=[]))
        uow.commit()
    admin.create_user(committed_services.new_uow(), SYSTEM, username="wangge", password=PASSWORD,
                      roles=["grid_worker"], department_code="QS-SM-WG1", display_name="赵丽")
    return live_server(create_app(committed_services.settings, services=committed_services))


@pytest.fixture
def phone(browser, browser_log):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and browser_log.console_errors.append(m.text))
    page.on("pageerror", lambda e: browser_log.page_errors.append(str(e)))
    yield page
    context.close()


def _photo(tmp_path):
    path = tmp_path / "IMG_2041.jpg"
    image = Image.new("RGB", (800, 600), (120, 140, 160))
    out = io.BytesIO()
    image.save(out, format="JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_a_grid_worker_reports_with_a_photo_on_the_phone(phone, browser_log, site, tmp_path,
                                                         screenshot_dir):
    sign_in(phone, site, "wangge")
    expect(phone.get_by_test_id("grid-name")).to_have_text("石门村第一网格")
    phone.screenshot(path=str(screenshot_dir / "grid-home.png"), full_page=True)
    phone.get_by_test_id("new-report").click()
    phone.select_option("#category", "neighbour")
    phone.fill("#summary", "楼道堆放杂物堵塞消防通道，住户多次反映")
    phone.select_option("#place_code", "QS-SM-G1-B3")
    phone.fill("#where", "2单元一楼楼道")
    phone.set_input_files("#photo", str(_photo(tmp_path)))
    # nothing is wider than the phone, and the buttons are big enough to touch
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.get_by_test_id("submit-report").bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300
    phone.screenshot(path=str(screenshot_dir / "grid-report-form.png"), full_page=True)
    with phone.expect_navigation():
        phone.get_by_test_id("submit-report").click()
    expect(phone.locator(".alert-success")).to_contain_text("已上报")
    expect(phone.get_by_test_id("status")).not_to_be_empty()
    expect(phone.get_by_test_id("photo")).to_have_count(1)
    phone.check("#outcome-ongoing")
    phone.fill("#note", "已提醒物业清理，明天再去看")
    with phone.expect_navigation():
        phone.get_by_role("button", name="记录回访").click()
    expect(phone.get_by_test_id("visits")).to_contain_text("已提醒物业清理")
    phone.screenshot(path=str(screenshot_dir / "grid-report-detail.png"), full_page=True)
    phone.goto(f"{site}/grid/reports")
    expect(phone.get_by_test_id("my-reports")).to_contain_text("楼道堆放杂物")
    phone.screenshot(path=str(screenshot_dir / "grid-my-reports.png"), full_page=True)
    assert not browser_log.problems()
