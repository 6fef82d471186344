"""A process owner's walk through the editor on the shipped library: the editor opens on the entry
process with its panels in Chinese, a dry run starts from generated data and advances to the next
timer, is saved as a regression example, a guidance-text edit validates and leaves the example's
path unchanged, the deploy closes the draft, the diff shows the text before and after, and the
running case migrates as safe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_modeler import PASSWORD, sign_in
from tests.factories import deploy_library
from tests.process_fixtures import start_case
from tests.second_factor_support import enrol_known
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.library import contract
from workflows.people import admin
from workflows.people.departments import seed_reference_data

GUIDANCE = "核对登记信息；涉及人数 10 人以上的，先电话告知分流研判员。"
EDIT_GUIDANCE = """(text) => {
  const m = JiefenEditor.modeler;
  const task = m.get('elementRegistry').get('register');
  const doc = m.get('bpmnFactory').create('bpmn:Documentation', {text: text});
  m.get('modeling').updateProperties(task, {documentation: [doc]});
  m.get('selection').select(task);
}"""


@pytest.fixture
def library_app(committed_services):
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(committed_services.new_uow(), SYSTEM, username="owner", password=PASSWORD,
                      roles=["process_owner"], department_code=None, display_name="流程管理员")
    enrol_known(committed_services, "owner")
    deploy_library(committed_services)
    start_case(committed_services, "general_dispute", "JF-WALK", data=contract.start_data(
        case_id=1, case_no="JF-WALK", category="neighbour", urgency="general", people_count=2,
        emergency=False, statutory_channel=False, party_ids=[],
        received_at="2025-03-03T01:00:00+00:00"))
    return create_app(committed_services.settings, services=committed_services)


ONE_LINE = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return range.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(el).fontSize);
}"""


def catalogue_is_readable(page) -> None:
    """The catalogue of the shipped library (sixteen files a version): 流程管理 once in the
    navigation; the short columns' headings and cells on one line; the file names wrap inside
    the page, on a laptop and on a phone."""
    expect(page.locator("nav").get_by_role("link", name="流程管理", exact=True)).to_have_count(1)
    card = page.locator('[data-testid="process-general_dispute"]')
    for th in ("版本", "状态", "部署人", "运行中", "已结束"):
        assert card.locator("th", has_text=th).evaluate(ONE_LINE), th
    for td in card.locator('[data-testid="version-general_dispute-1"] td').all()[:7]:
        assert td.evaluate(ONE_LINE), td.inner_text()
    for width, height in ((390, 844), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        files = card.locator('[data-testid="files-general_dispute-1"] a')
        assert files.count() >= 10
        for link in files.all():
            box = link.bounding_box()
            assert 0 <= box["x"] and box["x"] + box["width"] <= width, (width, link.inner_text())


def test_owner_walk_dry_run_example_guidance_edit_deploy_diff_migrate(
        page, live_server, library_app, committed_services, browser_log, screenshot_dir):
    base = live_server(library_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/editor?process=general_dispute&version=1")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    # the entry process, not the first file by name (case_handling.bpmn)
    expect(page.locator("#jf-file-tabs .nav-link.active")).to_have_text("general_dispute.bpmn")

    # a dry run from the intake contract's data, to the first timer
    page.click('[data-testid="dry-run"]')
    expect(page.locator('[data-testid="dry-run-data"]')).not_to_have_value("{}")
    assert "duplicate_candidates" in page.input_value('[data-testid="dry-run-data"]')
    page.click('[data-testid="dry-run-start"]')
    register = page.locator('[data-testid="dr-task-register"]')
    register.locator("select[name=category]").select_option("neighbour")
    register.locator("select[name=urgency]").select_option("general")
    register.locator("input[name=people_count]").fill("2")
    register.locator("textarea[name=summary]").fill("楼上漏水影响楼下")
    register.locator('[data-testid="dr-complete-register"]').click()
    expect(page.locator('[data-testid="dr-armed"]')).to_contain_text("sign_off_warning")
    expect(page.locator('[data-testid="next-timer"]')).to_be_enabled()
    page.click('[data-testid="next-timer"]')
    expect(page.locator('[data-testid="dr-fired"]')).to_contain_text("sign_off_warning")
    expect(page.locator('[data-testid="dr-error"]')).to_have_count(0)
    page.fill('[data-testid="example-title"]', "邻里纠纷：登记后签收预警")
    page.click('[data-testid="example-save"]')
    expect(page.locator('[data-testid="example-result"]')).to_contain_text("已保存示例")
    expect(page.locator('[data-testid="example-list"]')).to_contain_text("邻里纠纷：登记后签收预警")
    page.screenshot(path=str(screenshot_dir / "process-editor-dry-run.png"), full_page=True)

    # the decision table editor speaks Chinese too
    page.click('#jf-file-tabs button[data-file="routing.dmn"]')
    expect(page.locator("#jf-dmn")).to_contain_text("命中策略")
    page.click('#jf-file-tabs button[data-file="general_dispute.bpmn"]')
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")

    # a guidance-text edit: the panel speaks Chinese, validation passes, the example is unchanged
    page.evaluate(EDIT_GUIDANCE, GUIDANCE)
    panel = page.locator("#jf-props")
    expect(panel.locator(".bio-properties-panel-group-header").first).to_contain_text("常规")
    expect(panel).to_contain_text("说明")
    expect(panel).to_contain_text("用户任务")
    page.click('[data-testid="validate"]')
    expect(page.locator('[data-testid="status"]')).to_contain_text("校验通过", timeout=30_000)
    page.click('[data-testid="example-check"]')
    expect(page.locator('[data-testid="example-result"]')).to_contain_text("路径没有变化",
                                                                           timeout=30_000)
    page.screenshot(path=str(screenshot_dir / "process-editor-example.png"), full_page=True)

    # saved as a draft, then deployed: the draft is closed
    page.fill("#jf-title", "登记说明补充")
    page.click('[data-testid="save-draft"]')
    expect(page.locator('[data-testid="status"]')).to_contain_text("已保存草稿")
    page.fill("#jf-note", "登记核对说明补充")
    page.click('[data-testid="deploy"]')
    expect(page.locator('[data-testid="deploy-result"]')).to_contain_text("general_dispute v2",
                                                                          timeout=30_000)
    expect(page.locator('[data-testid="deploy-result"]')).to_contain_text("已启用")
    page.goto(base + "/processes/")
    expect(page.locator('[data-testid^="draft-"]')).to_have_count(0)
    catalogue_is_readable(page)

    # the diff shows the guidance before and after
    page.goto(base + "/processes/general_dispute/diff?from=1&to=2")
    texts = page.locator('[data-testid="texts-register"]')
    expect(texts.locator('[data-testid="after-register-documentation"]')).to_contain_text(GUIDANCE)
    expect(texts).to_contain_text("说明")
    texts.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "process-diff-texts.png"), full_page=True)

    # the running case (waiting at 登记核对) migrates as safe
    page.goto(base + "/processes/general_dispute/migrate?to=2")
    row = page.locator('[data-testid="case-JF-WALK"]')
    expect(row).to_contain_text("安全")
    expect(row).to_contain_text("仅文字，安全")
    page.fill("#reason", "登记核对说明补充")
    page.click('[data-testid="migrate"]')
    expect(page.locator('[data-testid="migration-results"]')).to_contain_text("已迁移 v1 → v2")
    page.screenshot(path=str(screenshot_dir / "process-migrate-safe.png"), full_page=True)
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def test_the_properties_panel_stays_english_on_an_english_page(
        page, live_server, library_app, committed_services, browser_log):
    base = live_server(library_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/")
    page.click(".jf-lang > button")
    with page.expect_navigation():
        page.click('form[action$="/locale/en"] button')
    page.goto(base + "/processes/editor?process=general_dispute&version=1")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.evaluate("() => JiefenEditor.modeler.get('selection').select("
                  "JiefenEditor.modeler.get('elementRegistry').get('register'))")
    panel = page.locator("#jf-props")
    expect(panel.locator(".bio-properties-panel-group-header").first).to_contain_text("General")
    assert not browser_log.problems(), "\n".join(browser_log.problems())
