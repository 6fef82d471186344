"""Hotspot warnings in headless Chromium: three 高空抛物 reports from one building raise a
warning; the district centre's supervisor sees the banner on the case page and follows it to the place page;
screenshots for docs/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import Walk
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.district.places import child_path
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
