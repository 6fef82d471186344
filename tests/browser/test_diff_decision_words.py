"""The version diff draws a changed decision table in the page's language, as the editor does:
查看决策需求图, 命中策略, 当/则, 注释 and the columns' types in words (文本, 是/否), not the
viewer's English labels or the file's type names."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.test_editor_walk import library_app  # noqa: F401 (fixture)
from tests.browser.test_modeler import sign_in
from tests.factories import BPMN_DIR
from workflows.core.actors import SYSTEM
from workflows.processes.deploy import deploy_bundle, read_directory


def test_a_changed_decision_table_is_drawn_in_chinese(page, live_server, library_app,  # noqa: F811
                                                       committed_services, browser_log):
    files = read_directory(BPMN_DIR)
    text = files["reopen.dmn"].decode("utf-8")
    assert "蓝色及其他上调为黄色" in text
    files["reopen.dmn"] = text.replace("蓝色及其他上调为黄色", "蓝色及其他上调为黄色（复核）").encode()
    deploy_bundle(committed_services.new_uow(), SYSTEM, files)
    base = live_server(library_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/general_dispute/diff?from=1&to=2")
    after = page.locator('[data-testid="diff-v2-reopen.dmn"]')
    expect(after).to_have_attribute("data-jf-state", "ready")
    expect(after).to_contain_text("命中策略")
    expect(after).to_contain_text("查看决策需求图")
    expect(after.locator(".input-variable").first).to_have_text("文本")
    expect(after.locator(".output-variable").first).to_have_text("是/否")
    for english in ("Hit policy", "View DRD", "Annotations", "When", "string", "boolean"):
        expect(after).not_to_contain_text(english)
    assert not browser_log.problems(), "\n".join(browser_log.problems())
