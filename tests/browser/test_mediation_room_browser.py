"""The mediation room as its users meet it, in headless Chromium: the handler's mediator select
grouped by unit name; attendance waiting for the session's start; a co-mediator named on the case
page and seeing the booking on 调解安排; a room lost to a simultaneous booking named on the 409
page. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.bpmn.test_services_mediation import local, to_mediation
from tests.browser.test_case_flow import PASSWORD, shot, sign_in
from tests.browser.test_mediation_booking import add_rooms, neighbour_case
from tests.factories import Walk
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.mediation import booking
from workflows.people import admin

CODES = ("in_person", "online", "booked", "JDTJ", "SQTJ", "RM-1", "RM-2", "sun_sqtj")


@pytest.fixture
def world(committed_services, clock, live_server):
    clock.set(local(2025, 3, 3, 10, 20))
    Walk.ready(committed_services, clock)
    for username, roles, unit, name in (
            ("zhang_mediator", ["mediator"], "JDTJ", "张秀兰"),
            ("sun_sqtj", ["mediator"], "SQTJ", "孙协调"),
            ("zhao_zz", ["mediator"], "ZZ", "赵中心"),
            ("song_handler", ["dept_handler"], "JDTJ", "宋承办"),
            ("zhou_fy", ["mediator"], "FY", "周法院")):
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                          password=PASSWORD, roles=roles, department_code=unit,
                          display_name=name)
    add_rooms(committed_services)
    other = neighbour_case(committed_services, clock, 1, "zhang_mediator")
    other.schedule("in_person", room="RM-1", start="09:00", end="10:30")   # Tue 03-04
    mine = neighbour_case(committed_services, clock, 2, "zhang_mediator")
    third = neighbour_case(committed_services, clock, 3, "zhang_mediator")
    unassigned = Walk(committed_services, clock)
    unassigned.intake(channel="grid_app", category="neighbour", summary="楼道堆物纠纷",
                      description="锦苑小区3栋楼道堆放杂物……",
                      parties=[PartyInput(name="王建国", phone="13712345671"),
                               PartyInput(name="李明", role="respondent", phone="13612345671")])
    unassigned.do("register", category="neighbour", urgency="general", people_count="2",
                  summary="楼道堆物纠纷")
    to_mediation(unassigned)
    unassigned.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    base = live_server(create_app(committed_services.settings, services=committed_services))
    return base, mine, other, third, unassigned


def no_codes(page) -> None:
    text = page.locator("main").inner_text()
    assert not [code for code in CODES if code in text], text


def book(page, base: str, walk: Walk, room: str, start: str, end: str) -> None:
    """Fill the booking step for Tue 2025-03-04 in the room and send it."""
    page.goto(f"{base}/cases/{walk.case_no}/tasks/{walk.task('schedule_session')['task_id']}")
    page.select_option("[name=session_mode]", "in_person")
    page.select_option("[name=room_code]", room)
    page.fill("[name=session_date]", "2025-03-04")
    page.fill("[name=session_start]", start)
    page.fill("[name=session_end]", end)
    page.click("[data-testid=submit]")


def test_the_mediation_room_as_its_users_meet_it(page, world, screenshot_dir, monkeypatch):
    base, mine, other, third, unassigned = world

    # the handler assigns a mediator: grouped by unit name, a court's mediator not offered
    sign_in(page, base, "song_handler")
    page.goto(f"{base}/cases/{unassigned.case_no}/tasks/"
              f"{unassigned.task('assign_mediator')['task_id']}")
    select = page.locator("[name=mediator_id]")
    expect(select.locator("optgroup").first).to_have_attribute("label", "街道（乡镇）人民调解委员会")
    expect(select.locator('optgroup[label="社区（村）人民调解委员会"] option')).to_have_text(["孙协调"])
    assert "周法院" not in select.inner_text()
    no_codes(page)

    # the mediator books a room, then meets the attendance step before the session begins
    sign_in(page, base, "zhang_mediator")
    with page.expect_navigation():
        book(page, base, mine, "RM-2", "09:30", "11:00")
    page.goto(f"{base}/cases/{mine.case_no}/tasks/{mine.task('record_attendance')['task_id']}")
    expect(page.get_by_test_id("attendance-not-yet")).to_contain_text(
        "这场调解 2025年3月4日（周二）09:30 才开始，开始后才能登记到场情况")
    expect(page.get_by_test_id("submit")).to_be_disabled()
    shot(page, screenshot_dir, "attendance-not-yet.png")
    no_codes(page)

    # a co-mediator of the community committee on the booked session
    page.goto(f"{base}/cases/{mine.case_no}")
    panel = page.locator("[data-testid=sessions-panel]")
    panel.locator("summary", has_text="协助调解员").click()
    panel.locator("[name=co_mediator]").select_option("sun_sqtj")
    with page.expect_navigation():
        panel.locator("[data-testid=co-mediator-form] button").click()
    expect(page.get_by_test_id("session-co-mediator")).to_contain_text("孙协调")

    sign_in(page, base, "sun_sqtj")
    page.click("nav >> text=调解安排")
    table = page.get_by_test_id("upcoming-sessions")
    expect(table).to_contain_text(mine.case_no)
    expect(table).to_contain_text("2025年3月4日（周二）09:30至11:00")
    expect(table).to_contain_text("协助调解员")
    expect(table).to_contain_text("张秀兰")
    shot(page, screenshot_dir, "upcoming-sessions.png")
    no_codes(page)
    table.locator(f"a:has-text('{mine.case_no}')").click()
    expect(page.locator("[data-testid=sessions-panel]")).to_contain_text("心理疏导室")

    # two bookings of one room at once: the loser's 409 names the room and the time in words
    monkeypatch.setattr(booking, "_clash", lambda *args: None)
    sign_in(page, base, "zhang_mediator")
    book(page, base, third, "RM-1", "10:00", "11:00")
    expect(page.get_by_test_id("conflict-message")).to_contain_text(
        "第一调解室 在 2025年3月4日（周二）10:00至11:00 刚被另一场调解预约")
    expect(page.get_by_test_id("kept-values")).to_contain_text("第一调解室")
    shot(page, screenshot_dir, "session-booking-409.png")
    no_codes(page)
