"""The mediator downloads the signed agreement as PDF from the case page (masked and full copy)."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.bpmn.test_services_mediation import c01_parties, local
from tests.browser.downloads import download
from tests.factories import Walk
from tests.workflows.test_pdf_documents import to_agreement
from web import create_app
from workflows.access.policy import actor_for_user
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin

PASSWORD = "browser-pass-1"


@pytest.fixture
def base(committed_services, clock, live_server) -> tuple[str, Walk]:
    clock.set(local(2025, 3, 3, 10, 20))
    walk = Walk.ready(committed_services, clock)
    user_id = admin.create_user(committed_services.new_uow(), SYSTEM, username="zhang_tj",
                                password=PASSWORD, roles=["mediator"], department_code="JDTJ",
                                display_name="张调解员")
    with committed_services.session_factory() as session:
        walk.users[("mediator", "JDTJ")] = actor_for_user(session.get(User, user_id))
    walk.intake(channel="grid_app", category="neighbour", summary="卫生间渗漏至楼下",
                description="502室卫生间长期渗漏至402室", parties=c01_parties())
    walk.do("register", category="neighbour", urgency="general", people_count="2",
            summary="卫生间渗漏至楼下")
    to_agreement(walk)
    return live_server(create_app(committed_services.settings,
                                  services=committed_services)), walk


def text_of(path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def test_mediator_downloads_the_agreement_pdf(page, browser_log, base, screenshot_dir,
                                              server_log):
    url, walk = base
    page.goto(f"{url}/auth/login")
    page.fill("input[name=username]", "zhang_tj")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("[data-testid=login-submit]")
    page.goto(f"{url}/cases/{walk.case_no}")
    item = page.locator('#docs .accordion-item[data-kind="mediation_agreement"]')
    item.locator(".accordion-button").click()
    expect(item.locator(".accordion-collapse.show")).to_be_visible()   # opened, not opening
    link = item.locator("[data-testid=pdf-masked]")
    expect(link).to_be_visible()
    item.locator("[data-testid=pdf-full]").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "case-document-pdf.png"), full_page=False)
    masked = download(page, server_log, link)
    masked_text = text_of(masked.path())
    assert masked.suggested_filename.endswith("-masked.pdf")
    assert "刘**" in masked_text and "刘淑芬" not in masked_text and walk.case_no in masked_text
    form = item.locator("[data-testid=pdf-full]")
    form.locator("select[name=purpose]").select_option("document")
    expect(form.locator("select[name=purpose]")).to_have_value("document")
    full = download(page, server_log, form.locator("button[type=submit]"))
    full_text = text_of(full.path())
    assert "刘淑芬" in full_text and "陈立伟" in full_text and "第3份（共3份）人民调解委员会存档" in full_text
    assert browser_log.problems() == []
