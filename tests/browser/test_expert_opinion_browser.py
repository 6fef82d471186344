"""In headless Chromium: a mediator books a room for a session and invites a lawyer of the expert
pool (the conflict check shown first); the lawyer signs in, sees only what the mediator shared
with the parties masked, and writes the opinion; the mediator reads it on the case page.
Screenshots go to docs/screenshots/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.bpmn.test_services_mediation import local
from tests.browser.test_case_flow import PASSWORD, shot, sign_in
from tests.browser.test_mediation_booking import neighbour_case
from tests.factories import Walk
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.mediation.experts import save_expert
from workflows.models import Department, Room
from workflows.people import admin

CODES = ("in_person", "booked", "invited", "submitted", "expert_field", "law", "is_party",
         "same_organisation", "JDTJ", "expert_opinion")


@pytest.fixture
def world(committed_services, clock, live_server):
    clock.set(local(2025, 3, 3, 10, 20))
    Walk.ready(committed_services, clock)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="zhang_mediator",
                      password=PASSWORD, roles=["mediator"], department_code="JDTJ",
                      display_name="张秀兰（调解员）")
    with committed_services.new_uow() as uow:
        unit = uow.session.scalars(select(Department).where(Department.code == "JDTJ")).one()
        uow.session.add(Room(code="RM-1", name="第一调解室", unit_id=unit.id, capacity=8,
                             recording=True, video=True, accessible=True, active=True))
        uow.commit()
    lawyer = save_expert(committed_services.new_uow(), SYSTEM, {
        "username": "lawyer_zhou", "display_name": "周文博", "field": "law",
        "unit_code": "SF", "organisation": "临江正衡律师事务所", "contact": "13900000301",
        "available_days": "1,2,3,4,5"})
    save_expert(committed_services.new_uow(), SYSTEM, {
        "username": "counsellor_lin", "display_name": "林晓雯", "field": "psychology",
        "unit_code": "SF", "organisation": "临江区心理健康服务中心", "contact": "13900000302",
        "available_days": "1,3,5"})
    case = neighbour_case(committed_services, clock, 3, "zhang_mediator")
    base = live_server(create_app(committed_services.settings, services=committed_services))
    return base, case, lawyer.password


def visible_codes(page) -> list[str]:
    text = page.locator("main").inner_text()
    return [code for code in CODES if f" {code}" in f" {text}" or f"（{code}" in text]


def test_a_lawyer_is_invited_to_a_booked_session_and_writes_the_opinion(
        page, browser_log, world, screenshot_dir):
    base, case, lawyer_password = world
    sign_in(page, base, "zhang_mediator")
    page.goto(f"{base}/cases/{case.case_no}")
    page.click('[data-testid=open-tasks] a[href*="/tasks/"]')
    expect(page.locator('[data-testid=step][data-task="schedule_session"]')).to_be_visible()
    page.select_option("[name=session_mode]", "in_person")
    page.select_option("[name=room_code]", "RM-1")
    page.fill("[name=session_date]", "2025-03-04")
    page.fill("[name=session_start]", "09:30")
    page.fill("[name=session_end]", "11:00")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    # invite the lawyer from the session: the conflict check comes first
    page.goto(f"{base}/cases/{case.case_no}#sessions")
    page.click("[data-testid=invite-expert] summary")
    page.select_option("[data-testid=invite-form] [name=expert_id]", label="周文博（法律，区司法局）")
    page.fill("[data-testid=invite-form] [name=shared_note]",
              "楼上卫生间渗漏至楼下，双方对维修责任和费用分担有争议，请从法律角度提出意见。")
    with page.expect_navigation():
        page.click("[data-testid=invite-form] button[type=submit]")
    expect(page.locator("[data-testid=no-conflicts]")).to_be_visible()
    shot(page, screenshot_dir, "expert-invite-check.png")
    with page.expect_navigation():
        page.click("[data-testid=invite-confirm]")
    expect(page.locator(".alert-success")).to_contain_text("周文博")
    panel = page.locator("[data-testid=sessions-panel]")
    expect(panel).to_contain_text("第一调解室")
    expect(panel.locator("[data-testid=session-experts]")).to_contain_text("周文博")
    expect(panel.locator("[data-testid=session-experts]")).to_contain_text("已邀请")
    assert not visible_codes(page), page.locator("main").inner_text()

    # the lawyer signs in with the first password handed over by the administrator
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", "lawyer_zhou")
    page.fill("input[name=password]", lawyer_password)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{base}/inbox")
    expect(page.locator("[data-testid=invitations-pending]")).to_contain_text(case.case_no)
    shot(page, screenshot_dir, "expert-home.png")
    page.click(f'[data-testid=invitations-pending] a:has-text("{case.case_no}")')
    expect(page.locator("[data-testid=shared-note]")).to_contain_text("请从法律角度提出意见")
    expect(page.locator("[data-testid=expert-session]")).to_contain_text("2025-03-04 09:30")
    main = page.locator("main").inner_text()
    assert "刘淑芬" not in main and "13812345673" not in main and "刘**" in main
    page.fill("[name=opinion]", "502室卫生间防水层老化导致渗漏，502室业主应承担维修责任并赔偿402室的损失。")
    page.fill("[name=basis]", "《民法典》第二百八十八条（相邻关系）、第一千一百六十五条（过错责任）。")
    page.fill("[name=recommendation]", "由502室修复防水层，赔偿402室维修费约4000元，可分两期支付。")
    with page.expect_navigation():
        page.click("[data-testid=opinion-submit]")
    expect(page.locator("[data-testid=my-opinion]")).to_contain_text("第二百八十八条")
    shot(page, screenshot_dir, "expert-opinion.png")
    assert not visible_codes(page), page.locator("main").inner_text()
    # the case pages stay closed to the lawyer
    answer = page.goto(f"{base}/cases/{case.case_no}")
    assert answer is not None and answer.status == 403

    # the mediator reads the opinion on the case page
    sign_in(page, base, "zhang_mediator")
    page.goto(f"{base}/cases/{case.case_no}")
    experts = page.locator("[data-testid=session-experts]")
    expect(experts).to_contain_text("已提交意见")
    doc = page.locator('[data-testid=documents] [data-kind="expert_opinion"]')
    expect(doc).to_contain_text("专家书面意见（周文博，区司法局）")
    doc.locator("button.accordion-button").click()
    expect(doc.locator(".accordion-body")).to_contain_text("由502室修复防水层")
    doc.scroll_into_view_if_needed()
    shot(page, screenshot_dir, "case-expert-opinion.png")
    assert not visible_codes(page), page.locator("main").inner_text()
    # the refused case page (403) is the only expected error in the console
    assert len(browser_log.page_errors) == 0
