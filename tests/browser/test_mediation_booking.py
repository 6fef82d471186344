"""A mediator books a mediation room for a session in headless Chromium: the room in use is
refused with the booking in the way named, another room is booked, the case page shows the
session and the rooms page its hours. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.bpmn.test_services_mediation import local, to_mediation
from tests.browser.test_case_flow import PASSWORD, shot, sign_in
from tests.factories import Walk
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.models import Department, Room, User
from workflows.people import admin

CODES = ("in_person", "online", "booked", "room_taken", "session_mode", "JDTJ")


def neighbour_case(walk_services, clock, n: int, mediator: str) -> Walk:
    walk = Walk(walk_services, clock)
    with walk_services.session_factory() as session:
        user = session.scalars(select(User).where(User.username == mediator)).one()
        walk.users[("mediator", "browser")] = actor_for_user(user)
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="东湖街道锦苑小区3栋502室卫生间长期渗漏至402室……",
                parties=[PartyInput(name="刘淑芬", phone=f"1381234567{n}"),
                         PartyInput(name="陈立伟", role="respondent", phone=f"1391234567{n}")])
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    to_mediation(walk)
    walk.do("confirm_consent", consent="both_agree", consent_note="双方同意")
    walk.do("assign_mediator", mediator_id=mediator, mediator_chosen_by="committee",
            conflict_check="no_conflict", experts_invited="true")
    walk.do("register_mediation", rights_notice_acknowledged="true",
            mediation_publicity="non_public", mediation_registration_note="已登记")
    return walk


def add_rooms(services) -> None:
    """The street committee's two rooms: 第一调解室 (RM-1) and 心理疏导室 (RM-2)."""
    with services.new_uow() as uow:
        unit = uow.session.scalars(select(Department).where(Department.code == "JDTJ")).one()
        uow.session.add_all([
            Room(code="RM-1", name="第一调解室", unit_id=unit.id, capacity=8, recording=True,
                 video=True, accessible=True, active=True),
            Room(code="RM-2", name="心理疏导室", unit_id=unit.id, capacity=4, recording=False,
                 video=False, accessible=True, active=True)])
        uow.commit()


@pytest.fixture
def world(committed_services, clock, live_server):
    clock.set(local(2025, 3, 3, 10, 20))
    Walk.ready(committed_services, clock)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="zhang_mediator",
                      password=PASSWORD, roles=["mediator"], department_code="JDTJ",
                      display_name="张秀兰（调解员）")
    add_rooms(committed_services)
    other = neighbour_case(committed_services, clock, 1, "zhang_mediator")
    other.schedule("in_person", room="RM-1", start="09:00", end="10:30")   # Tue 03-04
    mine = neighbour_case(committed_services, clock, 2, "zhang_mediator")
    base = live_server(create_app(committed_services.settings, services=committed_services))
    return base, mine, other


def test_a_mediator_books_a_room_and_a_taken_room_is_refused_by_name(page, browser_log, world,
                                                                     screenshot_dir):
    base, mine, other = world
    sign_in(page, base, "zhang_mediator")
    page.goto(f"{base}/cases/{mine.case_no}")
    page.click('[data-testid=open-tasks] a[href*="/tasks/"]')
    expect(page.locator('[data-testid=step][data-task="schedule_session"]')).to_be_visible()
    page.select_option("[name=session_mode]", "in_person")
    page.select_option("[name=room_code]", "RM-1")
    page.fill("[name=session_date]", "2025-03-04")
    page.fill("[name=session_start]", "09:30")
    page.fill("[name=session_end]", "11:00")
    page.click("[data-testid=submit]")
    refused = page.locator('[data-field="room_code"] .invalid-feedback')
    expect(refused).to_contain_text("已被预约")
    expect(refused).to_contain_text(other.case_no)
    shot(page, screenshot_dir, "session-booking-refused.png")
    text = page.locator("main").inner_text()
    assert not [code for code in CODES if code in text], text

    page.select_option("[name=room_code]", "RM-2")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    panel = page.locator("[data-testid=sessions-panel]")
    expect(panel).to_contain_text("心理疏导室")
    expect(panel).to_contain_text("2025-03-04 09:30")
    expect(panel.locator('[data-status="booked"]')).to_have_count(1)
    notices = page.locator("[data-testid=notifications-panel]")
    expect(notices).to_contain_text("调解安排通知")
    shot(page, screenshot_dir, "case-sessions.png")
    text = page.locator("main").inner_text()
    assert not [code for code in CODES if code in text], text

    page.goto(f"{base}/rooms")
    row = page.locator('[data-testid=rooms] tr[data-room="RM-2"]')
    expect(row).to_contain_text("已预约 1.5 小时")
    shot(page, screenshot_dir, "rooms.png")
    assert not browser_log.page_errors   # the refused booking answered 422 on purpose
