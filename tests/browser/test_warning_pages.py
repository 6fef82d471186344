"""Hotspot warnings in headless Chromium: three 高空抛物 reports from one building raise a
warning; the district centre's supervisor sees the banner on the case page and follows it to the place page;
screenshots for docs/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import Walk
from tests.second_factor_support import enrol_known, give_code_if_asked
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.district.places import child_path
from workflows.early_warning.evaluate import evaluate
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Department, Place
from workflows.people import admin

PASSWORD = "browser-pass-1"
TREE = (("QX", "示范区", "district", None), ("QS", "青山镇", "township", "QX"),
        ("QS-SM", "石门村", "village", "QS"), ("QS-SM-01", "石门村第1网格", "grid", "QS-SM"),
        ("QS-SM-01-003", "石门新村3栋", "building", "QS-SM-01"))


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def base(committed_services, clock, live_server, monkeypatch) -> tuple[str, list[str]]:
    services = committed_services
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    with services.new_uow() as uow:
        rows: dict[str, Place] = {}
        for code, name, level, parent in TREE:
            above = rows.get(parent) if parent else None
            place = Place(code=code, name=name, level=level,
                          parent_id=above.id if above else None)
            uow.session.add(place)
            uow.session.flush()
            place.path = child_path(above, place.id)
            rows[code] = place
        uow.session.add(Department(code="QS-ZZ", name="青山镇综治中心", tier="street", kind="ZZ",
                                   place_id=rows["QS"].id, responsibilities=[]))
        building = rows["QS-SM-01-003"].id
        uow.commit()
    admin.create_user(services.new_uow(), SYSTEM, username="supervisor", password=PASSWORD,
                      roles=["supervisor"], department_code="ZZ", display_name="孙丽")
    clerk = walk.user("intake_clerk", "ZZ")
    codes = []
    for day, phone in ((3, "13800000001"), (12, "13800000002"), (21, "13800000003")):
        clock.set(local(2025, 3, day, 10, 0))
        request = IntakeRequest(channel="hotline_12345", category="public_order",
                                summary="高空抛物", description="石门新村3栋有人从楼上扔酒瓶",
                                parties=[PartyInput(name="居民", phone=phone)],
                                place_id=building)
        codes.append(submit_intake(services.new_uow(), clerk, request).case_no)
    clock.set(local(2025, 3, 21, 15, 0))
    url = live_server(create_app(services.settings, services=services))
    return url, codes


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def test_the_supervisor_follows_the_warning_to_the_place(page, base, screenshot_dir,
                                                          browser_log):
    url, codes = base
    sign_in(page, url, "supervisor")
    page.goto(f"{url}/cases/{codes[-1]}")
    banners = page.locator("[data-testid=case-warning]")
    expect(banners).to_have_count(2)
    expect(banners.first).to_contain_text("预警：该楼栋30天内同类纠纷3起")
    expect(banners.nth(1)).to_contain_text("预警：该网格30天内同类纠纷3起")
    banners.first.screenshot(path=str(screenshot_dir / "case-warning.png"))
    with page.expect_navigation():
        banners.first.locator("a").click()
    expect(page.locator("[data-testid=place-name]")).to_contain_text("石门新村3栋")
    expect(page.locator("[data-testid=place-path]")).to_contain_text("青山镇")
    expect(page.locator("[data-testid=place-warnings] tbody tr")).to_have_count(1)
    expect(page.locator("[data-testid=recent-cases]")).to_have_text("3件")
    page.screenshot(path=str(screenshot_dir / "place-page.png"), full_page=True)
    assert not browser_log.console_errors and not browser_log.page_errors


def test_a_supervisor_confirms_one_warning_and_marks_another_false(
        page, base, committed_services, clock, screenshot_dir, browser_log):
    """The warnings list: the two hotspot warnings and a large-group warning raised by the
    hourly rules; 已核实 with a note, 误报 with a note, the precision at the top."""
    url, codes = base
    services = committed_services
    clerk = Walk.ready(services, clock).user("intake_clerk", "ZZ")
    with services.session_factory() as session:
        building = session.query(Place).filter_by(code="QS-SM-01-003").one().id
    submit_intake(services.new_uow(), clerk, IntakeRequest(
        channel="counter", category="labour_collective", summary="工地欠薪", people_count=12,
        description="十二名工人反映工地欠薪三个月", place_id=building,
        parties=[PartyInput(name="工人代表", phone="13800000009")]))
    evaluate(services, clock.now())
    admin.create_user(services.new_uow(), SYSTEM, username="admin", password=PASSWORD,
                      roles=["admin"], display_name="管理员")
    enrol_known(services, "admin")

    sign_in(page, url, "supervisor")
    page.goto(f"{url}/warnings")
    cards = page.locator("[data-testid=warnings] > .card")
    expect(cards).to_have_count(3)
    group = page.locator("[data-rule=large_group]")
    expect(group).to_contain_text("一件纠纷涉及12人")
    group.locator("input[name=note]").fill("现场核实，已约谈施工单位")
    with page.expect_navigation():
        group.get_by_role("button", name="已核实").click()
    expect(page.locator("[data-rule=large_group] [data-testid=warning-state]")).to_have_text("已核实")
    grid = page.locator("[data-rule=hotspot]").first
    grid.locator("input[name=note]").fill("手机号 13812345678 的住户已搬走")
    with page.expect_navigation():
        grid.get_by_role("button", name="误报").click()
    expect(page.locator(".invalid-feedback").first).to_contain_text("含有手机号")
    grid = page.locator("[data-rule=hotspot]").first
    grid.locator("input[name=note]").fill("与楼栋预警为同一事件，重复")
    with page.expect_navigation():
        grid.get_by_role("button", name="误报").click()
    expect(page.locator("[data-state=false_alarm]")).to_have_count(1)
    expect(page.locator("[data-testid=warning-precision]")).to_contain_text("50.0%")
    expect(page.locator("[data-testid=warning-decision]").first).to_contain_text("孙丽")
    page.screenshot(path=str(screenshot_dir / "warnings-decided.png"), full_page=True)

    page.context.clear_cookies()
    sign_in(page, url, "admin")
    give_code_if_asked(page, services, "admin")
    page.goto(f"{url}/admin/warning-rules")
    expect(page.locator("[data-testid=rule-form]")).to_have_count(6)
    page.fill("#trend_spike-factor", "2.5")
    with page.expect_navigation():
        page.locator("#rule-trend_spike button[type=submit]").click()
    expect(page.locator("#trend_spike-factor")).to_have_value("2.5")
    page.screenshot(path=str(screenshot_dir / "warning-rules.png"), full_page=True)
    # the one console error is the refused note, answered 422 on purpose
    assert [p for p in browser_log.problems() if "status of 422" not in p] == []
