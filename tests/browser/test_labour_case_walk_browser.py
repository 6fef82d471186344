"""A new labour case walked as the roles do, in headless Chromium: 12 carpenters owed ¥386,000.

The intake clerk registers it with a photo of the site notice, the triage officer confirms the
routing table's suggestion (co-units ticked by name, two kept), 人社局's handler signs off and
contacts the workers, the labour mediator registers the mediation and writes the agreement, its PDF
is downloaded and read, the early payment is recorded, the lead closes with a result report; the
case is found by a word of its summary. The co-units' and the inspectors' steps, the review and the
rating go through the services (their pages are walked by other browser tests).
Screenshots: docs/screenshots/labour-*.png."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image
from playwright.sync_api import expect
from pypdf import PdfReader

from engine.deadlines import SHANGHAI
from tests.browser.downloads import download
from tests.factories import IDS, Walk
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.casework.events import record_rating
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin

PASSWORD = "browser-pass-1"
ACCOUNTS = {  # username -> (role, unit, name)
    "clerk": ("intake_clerk", "ZZ", "王敏"), "triage": ("triage_officer", "ZZ", "赵研判"),
    "rs": ("dept_handler", "RS", "孙劳动"), "med": ("mediator", "RS", "刘调解")}   # mediation tasks go to the lead unit's mediators
SUMMARY = "12名木工被拖欠工资38.6万元"
TERMS = "宏基建设于2025年4月9日前向12名木工一次性支付拖欠工资共计人民币386,000元"


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def walk(committed_services, clock) -> Walk:
    clock.set(local(2025, 3, 10, 9, 30))
    walk = Walk.ready(committed_services, clock)
    for username, (role, unit, name) in ACCOUNTS.items():
        user_id = admin.create_user(committed_services.new_uow(), SYSTEM, username=username,
                                    password=PASSWORD, roles=[role], department_code=unit,
                                    display_name=name)
        with committed_services.session_factory() as session:
            walk.users[(role, unit)] = actor_for_user(session.get(User, user_id))
    return walk


@pytest.fixture
def base(walk, committed_services, live_server) -> str:
    return live_server(create_app(committed_services.settings, services=committed_services))


def sign_in(page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")


def shot(page, screenshot_dir, name: str) -> None:
    diagram = page.locator(".jf-diagram")
    if diagram.count():          # the case page: its diagram drawn, not "loading"
        expect(diagram.first).to_have_attribute("data-jf-state", "ready")
    page.screenshot(path=str(screenshot_dir / name), full_page=True)


def step(page, base: str, walk: Walk, bpmn_id: str, values: dict, *, dept: str | None = None,
         screenshot: str | None = None, screenshot_dir=None) -> None:
    """Open the step's page, fill its form as a person would, submit, land on a page with a flash."""
    task_id = walk.task(bpmn_id, dept)["task_id"]
    page.goto(f"{base}/cases/{walk.case_no}/tasks/{task_id}")
    expect(page.locator(f'[data-testid=step][data-task="{bpmn_id}"]')).to_be_visible()
    form = page.locator("[data-testid=task-form]")
    for name, value in values.items():
        control = form.locator(f'[name="{name}"]').first
        kind = control.evaluate("e => e.tagName + ':' + (e.type || '')")
        if kind.startswith("SELECT"):
            control.select_option(value)
        elif kind.endswith(":checkbox"):
            control.set_checked(value == "true")
        else:
            control.fill(value)
    if screenshot:
        shot(page, screenshot_dir, screenshot)
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()


def photo_file(tmp_path) -> str:
    path = tmp_path / "工地公告.jpg"
    image = Image.new("RGB", (320, 240), (230, 220, 180))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS
    image.save(path, format="JPEG", exif=exif)
    return str(path)


def register(page, base: str, tmp_path, screenshot_dir) -> str:
    page.goto(f"{base}/cases/new")
    page.select_option("[name=channel]", "counter")
    page.select_option("[name=category]", "labour_collective")
    page.select_option("[name=urgency]", "urgent")
    page.fill("[name=people_count]", "12")
    page.fill("[name=amount]", "386000")
    page.fill("[name=summary]", SUMMARY)
    page.fill("[name=description]", "我们12名木工在宏基建设承建的新港产业园二期项目做木工，"
                                    "去年10月至今年2月的工资共38.6万元一直未发。")
    page.fill('[name="parties-0-name"]', "马德顺")
    page.fill('[name="parties-0-id_number"]', IDS["马德顺"])
    page.fill('[name="parties-0-phone"]', "13700000001")
    page.fill('[name="parties-1-name"]', "宏基建设工程有限公司")
    with page.expect_navigation():
        page.click("[data-testid=preview]")
    expect(page.locator('[data-testid=intake-preview][data-kind="new"]')).to_be_visible()
    page.set_input_files("[name=attachments]", photo_file(tmp_path))
    shot(page, screenshot_dir, "labour-intake-attachment.png")
    with page.expect_navigation():
        page.click("[data-testid=save]")
    code = page.locator("[data-testid=case-code]").inner_text().strip()
    assert code.startswith("JF-2025-")
    return code


def pdf_text(path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join("".join(p.extract_text().split()) for p in reader.pages)


def test_a_labour_case_from_intake_to_closing(page, browser_log, base, walk, tmp_path,
                                              screenshot_dir, clock, committed_services,
                                              server_log):
    # the intake clerk: the case with a photo, then 登记核对 (prefilled from intake)
    sign_in(page, base, "clerk")
    walk.case_no = register(page, base, tmp_path, screenshot_dir)
    step(page, base, walk, "register", {})
    page.goto(f"{base}/cases/{walk.case_no}")
    files = page.locator("[data-testid=case-attachments]")
    expect(files).to_contain_text("照片 1")
    expect(files).to_contain_text("王敏")
    photo = download(page, server_log, files.locator("a").first)
    assert photo.suggested_filename.startswith(walk.case_no)
    assert b"Exif" not in photo.path().read_bytes()[:200]    # no GPS left

    # the triage officer: the routing table's suggestion, co-units by name; keep two
    sign_in(page, base, "triage")
    task_id = walk.task("confirm_triage")["task_id"]
    page.goto(f"{base}/cases/{walk.case_no}/tasks/{task_id}")
    expect(page.locator("[name=department]")).to_have_value("RS")
    co = page.locator('[data-field="co_departments"]')
    expect(co.get_by_label("总工会")).to_be_checked()
    shot(page, screenshot_dir, "labour-triage-prefilled.png")
    for name in ("公安分局（派出所）", "金融监管部门 / 开户银行", "司法局", "区人民法院"):
        co.get_by_label(name).uncheck()
    page.fill("[name=triage_note]", "群体欠薪，人社局牵头；住建、工会协办")
    with page.expect_navigation():
        page.click("[data-testid=submit]")
    expect(page.locator(".alert-success")).to_be_visible()

    # 人社局: sign off and contact the workers
    sign_in(page, base, "rs")
    step(page, base, walk, "sign_off", {"sign_off_decision": "accept"}, dept="RS")
    step(page, base, walk, "contact_citizen", {"contact_channel": "in_person",
                                               "contact_summary": "与工人代表面谈，核对名单"})
    # the co-units and the inspectors, through the services
    walk.do("request_evidence", evidence_items="工人名册、工资台账", evidence_status="received")
    assert sorted(t["dept"] for t in walk.open() if t["bpmn_id"] == "co_sign_off") == ["GH", "ZJ"]
    for dept in ("GH", "ZJ"):
        walk.do("co_sign_off", dept, co_sign_off_decision="accept")
        walk.do("co_handle", dept, co_result=f"{dept} 已按分工办理", co_result_status="done")
    walk.do("inspection_filing", inspection_accepted="true", inspection_ref="JC-2025-031")
    walk.do("inspection_result", payment_ordered="true", wages_paid="unpaid",
            enforcement_applied="false", blacklist_proposed="false", criminal_referral="false")

    # the labour mediator: registration, mediation, the agreement
    sign_in(page, base, "med")
    step(page, base, walk, "register_labour_mediation", {
        "mediation_application_date": "2025-03-10", "trade_union_present": "true",
        "mediation_claims": "支付拖欠工资共386,000元"})
    step(page, base, walk, "labour_mediation", {"labour_mediation_record": "双方同意一次付清",
                                                "labour_mediation_result": "agreement"})
    step(page, base, walk, "labour_agreement", {
        "payment_schedule": TERMS, "labour_agreement_signed": "true",
        "payment_period": "statutory_days(30)"},
        screenshot="labour-agreement-step.png", screenshot_dir=screenshot_dir)

    # the agreement as a PDF: the signing copy, for a stated purpose
    page.goto(f"{base}/cases/{walk.case_no}")
    item = page.locator('#docs .accordion-item[data-kind="labour_agreement"]')
    item.locator(".accordion-button").click()
    expect(item.locator(".accordion-collapse.show")).to_be_visible()   # opened, not opening
    form = item.locator("[data-testid=pdf-full]")
    form.locator("select[name=purpose]").select_option("document")
    expect(form.locator("select[name=purpose]")).to_have_value("document")
    full = download(page, server_log, form.locator("button[type=submit]"))
    text = pdf_text(full.path())
    for words in ("劳动争议调解协议书", "马德顺", "宏基建设工程有限公司", "386,000元", "刘调解",
                  walk.case_no):
        assert words in text, words

    # paid early: recorded from the case page, the case moves on
    clock.set(local(2025, 3, 20, 10, 0))           # ten days on: the sign-in has lapsed
    sign_in(page, base, "med")
    page.goto(f"{base}/cases/{walk.case_no}")
    panel = page.locator("[data-testid=record-performance]")
    expect(panel).to_be_visible()
    panel.locator("[name=note]").fill("宏基建设已于3月20日付清")
    shot(page, screenshot_dir, "labour-record-payment.png")
    with page.expect_navigation():
        panel.locator("[data-testid=record-performance-submit]").click()
    expect(page.locator(".alert-success")).to_contain_text("已记录协议已履行")

    # the lead closes: consolidation and the result report; review and rating by the services
    sign_in(page, base, "rs")
    step(page, base, walk, "lead_consolidate", {"joint_result": "住建冻结专户，工会参与调解",
                                                "joint_outcome": "resolved"})
    step(page, base, walk, "submit_result", {"outcome": "R1",
                                             "result_summary": "调解达成协议，工资已全部付清"})
    walk.do("review_result", review_decision="approve")
    record_rating(committed_services.new_uow(), walk.user("intake_clerk", "ZZ"),
                  case_no=walk.case_no, rating="satisfied")
    page.goto(f"{base}/cases/{walk.case_no}")
    expect(page.locator("[data-testid=case-status]")).to_contain_text("已结案")
    shot(page, screenshot_dir, "labour-case-closed.png")

    # found again by a word of its summary
    sign_in(page, base, "clerk")
    page.goto(f"{base}/cases?q=木工")
    expect(page.locator(f'a[href="/cases/{walk.case_no}"]').first).to_be_visible()
    shot(page, screenshot_dir, "labour-case-search.png")
    assert browser_log.problems() == []
