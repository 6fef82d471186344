"""A mediator books a mediation session with the keyboard alone in headless Chromium: Tab from the
skip link through the sign-in form, the inbox and the step's selects, date and time fields to the
submit button; the user menu opens and signs out with Enter and the arrow keys. No mouse click
anywhere, and each focused control shows the focus ring."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.a11y_support import PASSWORD, local
from tests.browser.test_mediation_booking import neighbour_case
from tests.factories import Walk
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.models import Department, Room
from workflows.people import admin

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), name: el.getAttribute('name') || '',
          testid: el.dataset.testid || '', text: (el.innerText || el.value || '').trim(),
          href: el.getAttribute('href') || '', value: el.value || '',
          task: el.closest('tr') ? el.closest('tr').dataset.task || '' : '',
          ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2};
}"""


@pytest.fixture
def base(committed_services, clock, live_server):
    clock.set(local(2025, 3, 3, 10, 20))
    Walk.ready(committed_services, clock)
    admin.create_user(committed_services.new_uow(), SYSTEM, username="mediator",
                      password=PASSWORD, roles=["mediator"], department_code="JDTJ",
                      display_name="张秀兰（调解员）")
    with committed_services.new_uow() as uow:
        unit = uow.session.scalars(select(Department).where(Department.code == "JDTJ")).one()
        uow.session.add(Room(code="RM-1", name="第一调解室", unit_id=unit.id, capacity=8,
                             recording=True, video=True, accessible=True, active=True))
        uow.commit()
    walk = neighbour_case(committed_services, clock, 1, "mediator")
    return live_server(create_app(committed_services.settings, services=committed_services)), walk


class Keyboard:
    """Tab through a page until a control matches; every stop must show the focus ring."""

    def __init__(self, page):
        self.page = page
        self.stops = 0

    def focused(self) -> dict:
        return self.page.evaluate(FOCUSED) or {}

    def tab_to(self, wanted, limit: int = 80, back: bool = False) -> dict:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if back else "Tab")
            here = self.focused()
            if here:
                self.stops += 1
                assert here["ring"], f"no visible focus ring on {here}"
            if here and wanted(here):
                return here
        raise AssertionError(f"not reached with Tab in {limit} stops; last: {self.focused()}")

    def type_date(self, iso: str) -> None:
        """Type a date into the focused date field, part by part. The parts' order follows the
        browser's own language (年/月/日 in Chinese, month/day/year in American English), so each
        order is tried: → moves on from the year, a two-digit month or day moves on by itself."""
        year, month, day = iso.split("-")
        keys = self.page.keyboard
        for order in ((year, "ArrowRight", month, day), (month, day, year), (day, month, year)):
            for _ in range(3):
                keys.press("ArrowLeft")
            for _ in range(3):
                keys.press("Backspace")
                keys.press("ArrowRight")
            for _ in range(3):
                keys.press("ArrowLeft")
            for part in order:
                keys.press(part) if part.startswith("Arrow") else keys.type(part)
            if self.page.evaluate("document.activeElement.value") == iso:
                return
        raise AssertionError(f"could not type {iso} into {self.focused()}")

    def choose(self, name: str, value: str) -> None:
        """A focused <select>: arrow keys until ``value`` is selected (no list opened)."""
        select_ = self.page.locator(f'select[name="{name}"]')
        for _ in range(30):
            if select_.input_value() == value:
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"{name} never reached {value!r}")


def test_a_mediator_books_a_session_with_the_keyboard_alone(page, browser_log, base,
                                                           screenshot_dir):
    url, walk = base
    keys = Keyboard(page)
    page.goto(f"{url}/auth/login")
    assert keys.focused()["name"] == "username"           # the sign-in page starts in the field
    page.keyboard.type("mediator")
    keys.tab_to(lambda f: f["name"] == "password")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # the skip link is the first stop and jumps over the navigation into <main>
    keys.tab_to(lambda f: f["text"] == "跳到主要内容", limit=1)
    page.keyboard.press("Enter")
    here = keys.tab_to(lambda f: True, limit=1)
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)"), here

    keys.tab_to(lambda f: f["task"] == "schedule_session" and "/tasks/" in f["href"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator('[data-testid=step][data-task="schedule_session"]')).to_be_visible()

    keys.tab_to(lambda f: f["name"] == "session_mode")
    keys.choose("session_mode", "in_person")
    keys.tab_to(lambda f: f["name"] == "room_code")
    keys.choose("room_code", "RM-1")
    keys.tab_to(lambda f: f["name"] == "session_date")
    keys.type_date("2025-03-04")
    keys.tab_to(lambda f: f["name"] == "session_start")
    page.keyboard.type("09:30")
    keys.tab_to(lambda f: f["name"] == "session_end")
    page.keyboard.type("11:00")
    expect(page.locator("[name=session_date]")).to_have_value("2025-03-04")
    expect(page.locator("[name=session_start]")).to_have_value("09:30")
    page.screenshot(path=str(screenshot_dir / "keyboard-step.png"), full_page=True)
    keys.tab_to(lambda f: f["testid"] == "submit")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_be_visible()
    assert "schedule_session" not in walk.ids() and "record_attendance" in walk.ids()

    # the user menu (a dropdown) opens with Enter; the arrow keys reach 退出登录
    keys.tab_to(lambda f: f["testid"] == "user-menu", back=True)
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=account-link]")).to_be_visible()
    for _ in range(6):
        page.keyboard.press("ArrowDown")
        if keys.focused().get("text") == "退出登录":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("input[name=username]")).to_be_visible()
    assert keys.stops > 10
    assert browser_log.problems() == []
