"""axe-core in headless Chromium on the pages staff use every day: the sign-in page, each staff
role's inbox, a task page of each, the case page, the intake form, the reports and the cockpit,
supervision, warnings, the case audit and the rooms, some also in English. Any serious or
critical violation fails, listed by rule id and element."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.a11y_support import PASSWORD, axe_violations, blocking, build_district, local
from web import create_app


@pytest.fixture
def district(committed_services, clock, live_server):
    found = build_district(committed_services, clock)
    base = live_server(create_app(committed_services.settings, services=committed_services))
    return base, found


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def check(page, name: str, found: dict[str, list[str]]) -> None:
    """Run axe on the page as it stands; remember its blocking violations under ``name``."""
    expect(page.locator("main")).to_be_visible()
    diagrams = page.locator(".jf-diagram")
    for i in range(diagrams.count()):
        expect(diagrams.nth(i)).to_have_attribute("data-jf-state", "ready", timeout=15000)
    problems = blocking(axe_violations(page))
    if problems:
        found[name] = problems


def open_task(page, base: str, bpmn_id: str) -> None:
    page.goto(f"{base}/inbox")
    link = page.locator(f'tr[data-task="{bpmn_id}"] a[href*="/tasks/"]').first
    page.goto(base + link.get_attribute("href"))
    expect(page.locator(f'[data-testid=step][data-task="{bpmn_id}"]')).to_be_visible()


def report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}:\n  " + "\n  ".join(lines) for page, lines in found.items())


def test_the_sign_in_page_has_no_serious_violation(page, district):
    base, _ = district
    found: dict[str, list[str]] = {}
    page.goto(f"{base}/auth/login")
    check(page, "sign-in", found)
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "wrong-password-1")
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    check(page, "sign-in refused", found)
    assert not found, report(found)


def test_every_roles_daily_pages_have_no_serious_violation(page, browser_log, district):
    base, cases = district
    found: dict[str, list[str]] = {}
    tasks = {"clerk": "register", "triage": "confirm_triage", "handler": "sign_off",
             "mediator": "schedule_session", "leader": "leader_take_charge"}
    for username in ("clerk", "triage", "handler", "mediator", "supervisor", "leader"):
        sign_in(page, base, username)
        page.goto(f"{base}/inbox")
        expect(page.locator("main h1")).to_be_visible()
        check(page, f"{username}: inbox", found)
        if username in tasks:
            open_task(page, base, tasks[username])
            check(page, f"{username}: task {tasks[username]}", found)

    sign_in(page, base, "clerk")
    page.goto(f"{base}/cases/new")
    check(page, "clerk: intake form", found)
    page.goto(f"{base}/cases/{cases.verify}")
    check(page, "clerk: case page", found)
    page.goto(f"{base}/cases")
    check(page, "clerk: case list", found)

    page.click("text=语言")                            # the same pages in English
    with page.expect_navigation():
        page.click("button[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check(page, "clerk (English): case list", found)
    open_task(page, base, "register")
    check(page, "clerk (English): task register", found)
    page.goto(f"{base}/cases/new")
    check(page, "clerk (English): intake form", found)

    sign_in(page, base, "mediator")
    page.goto(f"{base}/cases/{cases.mediation}")
    check(page, "mediator: case page", found)
    page.goto(f"{base}/rooms")
    check(page, "mediator: rooms", found)

    sign_in(page, base, "supervisor")
    page.goto(f"{base}/reports/")
    check(page, "supervisor: reports", found)
    page.goto(f"{base}/reports/{cases.report_id}")
    check(page, "supervisor: report", found)
    page.goto(f"{base}/cockpit")
    check(page, "supervisor: cockpit", found)
    page.goto(f"{base}/cases/{cases.triage}")
    check(page, "supervisor: case page", found)
    page.goto(f"{base}/supervision/")
    check(page, "supervisor: supervision", found)
    page.goto(f"{base}/warnings")
    check(page, "supervisor: warnings", found)
    page.goto(f"{base}/audit/cases/{cases.sign_off}")
    check(page, "supervisor: case audit", found)

    sign_in(page, base, "leader")
    page.goto(f"{base}/cockpit")
    check(page, "leader: cockpit", found)
    page.goto(f"{base}/auth/account")
    check(page, "leader: my account", found)
    assert not found, report(found)
    assert browser_log.problems() == []


PALETTE = """
{% extends "base.html" %}
{% import "_macros.html" as m with context %}
{% block title %}配色检查{% endblock %}
{% block content %}
<h1>配色检查</h1>
{% for panel in ["", "bg-body-tertiary", "jf-instructions"] %}
<section class="p-3 {{ panel }}" aria-label="面板 {{ loop.index }}">
  <p>{% for c in ["red", "orange", "yellow", "blue", "green", "none"] %}{{ m.risk_badge(c) }} {% endfor %}</p>
  <p>{% for c in ["green", "yellow", "orange", "red", "none"] %}{{ m.light_badge(c) }} {% endfor %}</p>
  <p>{% for c in ["primary", "secondary", "success", "danger", "warning", "info", "light", "dark"] %}
    <span class="badge text-bg-{{ c }}">状态</span>{% endfor %}
    {% for c in ["met", "at_risk", "missed", "no_data"] %}<span class="badge jf-status-{{ c }}">达标</span>{% endfor %}</p>
  <p>{% for c in ["primary", "secondary", "success", "danger"] %}
    <button class="btn btn-sm btn-outline-{{ c }}" type="button">办理</button>
    <button class="btn btn-sm btn-{{ c }}" type="button">提交</button>{% endfor %}
    <button class="btn btn-sm btn-link" type="button">展开</button> <a href="#top">返回案件</a></p>
  <p class="small text-body-secondary">说明文字 <span class="text-danger">必填</span>
    <span class="text-warning-emphasis">待部门答复</span></p>
</section>
{% endfor %}
{% endblock %}
"""


def test_every_badge_light_and_button_colour_reads_at_4_5_to_1(page, live_server, tmp_path,
                                                               screenshot_dir):
    """Colours a page shows only in some states (an orange risk, a red light, a missed target)
    are checked once each here, on white and on the light grey panels."""
    from flask import Flask, render_template_string, session
    from flask_babel import Babel, get_locale
    from flask_wtf import CSRFProtect

    from tests.browser.test_vendor_assets import WEB, load_compile_module

    assert not load_compile_module().compile_all(out=tmp_path, strict=True)
    app = Flask("palette_check", root_path=str(WEB))
    app.config.update(SECRET_KEY="browser-test-only", BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    CSRFProtect(app)
    Babel(app, locale_selector=lambda: session.get("locale", "zh_Hans_CN"))
    app.jinja_env.globals["get_locale"] = get_locale
    app.add_url_rule("/", "home", lambda: render_template_string(PALETTE))
    page.goto(live_server(app))
    expect(page.locator("[data-risk=orange]").first).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "a11y-palette.png"), full_page=True)
    problems = blocking(axe_violations(page))
    assert not problems, "\n".join(problems)


def test_the_grid_workers_phone_pages_have_no_serious_violation(page, committed_services, clock,
                                                                 live_server):
    """Grid workers are often older volunteers on a phone: the home, report and my-reports
    pages at 390 px."""
    from tests.browser.test_grid_phone import PLACES
    from tests.factories import Walk
    from workflows.core.actors import SYSTEM
    from workflows.models import Department, Place
    from workflows.people import admin

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
    base = live_server(create_app(committed_services.settings, services=committed_services))
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base, "wangge")
    found: dict[str, list[str]] = {}
    for name, path in (("home", "/grid/"), ("report", "/grid/report"),
                       ("my reports", "/grid/reports")):
        assert page.goto(base + path).ok, path
        check(page, f"grid worker: {name}", found)
    assert not found, report(found)
