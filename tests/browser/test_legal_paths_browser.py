"""The legal paths in headless Chromium, as the roles work them: the clerk registers a petition and a
land-contract matter already in a statutory channel, the triage officer routes each at screening and
records the dates the law counts from; the case page's 时限 panel states each window's T-id, article,
start and end. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from engine.deadlines import SHANGHAI
from tests.factories import IDS, Walk
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.people import admin

PASSWORD = "browser-pass-1"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(committed_services, clock) -> Walk:
    clock.set(local(2025, 9, 22, 9, 0))
    return Walk.ready(committed_services, clock)


@pytest.fixture
def base(walk, committed_services, live_server) -> str:
    for username, role, name in (("clerk", "intake_clerk", "王敏"), ("triage", "triage_officer", "孙磊")):
        admin.create_user(committed_services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code="ZZ", display_name=name)
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def step(page, base: str, code: str, bpmn_id: str, *, choose=None, fill=None, check=()) -> None:
    """From the inbox, open the case's task and submit its form."""
    page.goto(f"{base}/inbox")
    page.click(f'tr[data-case="{code}"][data-task="{bpmn_id}"] a[href*="/tasks/"]')
    expect(page.locator(f'[data-testid=step][data-task="{bpmn_id}"]')).to_be_visible()
    for name, value in (choose or {}).items():
        page.select_option(f'[name="{name}"]', value)
    for name, value in (fill or {}).items():
        page.fill(f'[name="{name}"]', value)
    for name in check:
        page.check(f'[name="{name}"]')
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()


def registered(page, base: str, walk: Walk, category: str, name: str, summary: str) -> str:
    """Received through the petition channel (or the counter), registered by the clerk."""
    code = walk.intake(channel="petition_transfer" if category == "petition" else "counter",
                       category=category, summary=summary, statutory_channel=True,
                       description=f"{summary}，当事人已进入法定途径",
                       parties=[PartyInput(name=name, id_number=IDS[name], phone="13812345678",
                                           contact_preference="phone")])
    if category == "petition":   # the shipped case type: straight onto the petition path
        return code
    sign_in(page, base, "clerk")
    step(page, base, code, "register", choose={"category": category, "urgency": "general"},
         fill={"people_count": "1", "summary": summary}, check=("statutory_channel",))
    return code


def windows(page, base: str, code: str):
    page.goto(f"{base}/cases/{code}")
    section = page.locator("section[aria-labelledby=h-deadlines]")
    section.scroll_into_view_if_needed()
    return section


def test_petition_and_land_contract_paths_show_their_legal_windows(page, browser_log, base, walk,
                                                                   screenshot_dir):
    petition = registered(page, base, walk, "petition", "刘淑芬", "对征地补偿答复不服的信访事项")
    sign_in(page, base, "triage")
    step(page, base, petition, "petition_stage_check", choose={"petition_stage": "new"})
    step(page, base, petition, "petition_received", fill={"petition_received_on": "2025-09-20"})
    panel = windows(page, base, petition)
    row = panel.locator("[data-testid=legal-window]").first
    expect(row).not_to_contain_text("T-31")          # the basis in words, not the timer id
    expect(row).to_contain_text("信访工作条例第22—23条")
    expect(row).to_contain_text("起算：2025-09-20")
    expect(row).to_contain_text("届满：2025-10-09（当日24时）")
    panel.screenshot(path=str(screenshot_dir / "legal-path-petition.png"))
    step(page, base, petition, "petition_acceptance", choose={"petition_acceptance_decision": "transferred"},
         fill={"petition_informed_on": "2025-09-22"})
    row = windows(page, base, petition).locator("[data-testid=legal-window]").first
    expect(row).to_contain_text("信访工作条例第23条")
    # 5 working days after Mon 09-22: Tue..Fri, then Sun 09-28, a make-up working day
    expect(row).to_contain_text("届满：2025-09-28")

    land = registered(page, base, walk, "land_contract", "陈立伟", "土地承包经营权流转纠纷已申请仲裁")
    sign_in(page, base, "triage")
    step(page, base, land, "statutory_guidance", choose={"statutory_route": "land_arbitration"},
         fill={"statutory_guidance_text": "已向县农村土地承包仲裁委员会申请仲裁"})
    step(page, base, land, "land_stage_check", choose={"land_stage": "applied"})
    step(page, base, land, "land_applied", fill={"land_applied_on": "2025-09-19"})
    step(page, base, land, "land_acceptance", choose={"land_accepted": "accepted"},
         fill={"land_accepted_on": "2025-09-22"})
    panel = windows(page, base, land)
    row = panel.locator("[data-testid=legal-window]").first
    expect(row).not_to_contain_text("T-42")
    expect(row).to_contain_text("农村土地承包经营纠纷调解仲裁法第47条")
    expect(row).to_contain_text("起算：2025-09-22")
    expect(row).to_contain_text("届满：2025-11-21")
    panel.screenshot(path=str(screenshot_dir / "legal-path-land.png"))
    page.goto(f"{base}/cases/{land}")
    expect(page.locator(".jf-diagram")).to_have_attribute("data-jf-state", "ready", timeout=15000)
    page.screenshot(path=str(screenshot_dir / "legal-path-land-case.png"), full_page=True)
    assert not browser_log.problems(), browser_log.problems()
