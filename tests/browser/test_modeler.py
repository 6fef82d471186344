"""The process owners' editor in headless Chromium: open a version, add a user task with a form
field, validate, dry run, deploy, and start a case on the new version."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.process_fixtures import complete_step, deploy_version, start_case
from tests.second_factor_support import enrol_known, give_code_if_asked
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data

PASSWORD = "owner-password-1"

# Insert a user task between 'mediate' and 'end_done' with the modeling API (drag and drop is
# not what this test is about); the form field is then added through the properties panel.
ADD_TASK = """() => {
  const m = JiefenEditor.modeler;
  const reg = m.get('elementRegistry');
  const modeling = m.get('modeling');
  const pool = reg.get('pool_mediation');
  const task = modeling.createShape({type: 'bpmn:UserTask'}, {x: 610, y: 240}, pool);
  modeling.updateProperties(task, {id: 'record_agreement'});
  modeling.updateLabel(task, '制作调解协议书');
  modeling.moveElements([reg.get('end_done')], {x: 90, y: 0});
  modeling.reconnectEnd(reg.get('f_mediate'), task, {x: 560, y: 240});
  modeling.connect(task, reg.get('end_done'));
  m.get('selection').select(task);
  return task.businessObject.lanes ? task.businessObject.lanes.map(l => l.name) : [];
}"""


@pytest.fixture
def owner_app(committed_services):
    with committed_services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    admin.create_user(committed_services.new_uow(), SYSTEM, username="owner", password=PASSWORD,
                      roles=["process_owner"], department_code=None, display_name="流程管理员")
    enrol_known(committed_services, "owner")
    deploy_version(committed_services, "mediation_v1")
    app = create_app(committed_services.settings, services=committed_services)
    return app


def sign_in(page, base: str, services) -> None:
    page.goto(base + "/auth/login")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    give_code_if_asked(page, services, "owner")
    page.wait_for_load_state()


def test_edit_validate_dry_run_deploy_and_start_a_case(page, live_server, owner_app,
                                                      committed_services, browser_log,
                                                      screenshot_dir):
    start_case(committed_services, "mediation", "JF-WAITING")  # waits in mediation on v1
    complete_step(committed_services, "JF-WAITING", "register", {"category": "labour"})
    base = live_server(owner_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/editor?process=mediation&version=1")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    expect(page.locator("#jf-source")).to_have_text("mediation 版本 1")

    lanes = page.evaluate(ADD_TASK)
    assert lanes == ["Mediator"]
    expect(page.locator('[data-testid="exec-lane"]')).to_have_text("办理角色（泳道）：Mediator")
    instructions = page.locator('[data-testid="exec-instructions"]')
    instructions.fill("案件 {{ case_no }}：请制作调解协议书。")
    instructions.press("Tab")  # change event

    # the form field, through the Camunda properties panel
    panel = page.locator("#jf-props")
    panel.locator('.bio-properties-panel-group-header:has-text("表单")').first.click()
    panel.locator("select").filter(has=page.locator('option[value="formData"]')).select_option(
        "formData")
    panel.locator('.bio-properties-panel-group-header:has-text("表单字段")').first \
        .locator("button.bio-properties-panel-add-entry").click()
    field_id = panel.locator('input[name$="formFieldID"]').first
    field_id.fill("agreement_no")
    field_id.press("Tab")
    label = panel.locator('input[name$="formFieldLabel"]').first
    label.fill("协议编号")
    label.press("Tab")
    panel.locator('select[name$="formFieldType"]').first.select_option("string")
    xml = page.evaluate("async () => (await JiefenEditor.files())['mediation.bpmn']")
    assert 'camunda:formField id="agreement_no" label="协议编号" type="string"' in xml
    assert "<spiffworkflow:instructionsForEndUser>案件 {{ case_no }}：请制作调解协议书。" \
        "</spiffworkflow:instructionsForEndUser>" in xml
    assert 'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"' in xml

    page.click('[data-testid="validate"]')
    expect(page.locator('[data-testid="status"]')).to_have_text("校验通过")

    # a dry run to the end through the new step
    page.click('[data-testid="dry-run"]')
    page.fill("#jf-dr-data", '{"case_no": "试运行"}')
    page.click('[data-testid="dry-run-start"]')
    register = page.locator('[data-testid="dr-task-register"]')
    register.locator("select[name=category]").select_option("labour")
    register.locator('[data-testid="dr-complete-register"]').click()
    mediate = page.locator('[data-testid="dr-task-mediate"]')
    mediate.locator("select[name=outcome]").select_option("agreed")
    mediate.locator('[data-testid="dr-complete-mediate"]').click()
    new_step = page.locator('[data-testid="dr-task-record_agreement"]')
    new_step.locator("input[name=agreement_no]").fill("XY-2025-01")
    new_step.locator('[data-testid="dr-complete-record_agreement"]').click()
    expect(page.locator('[data-testid="dr-now"]')).to_contain_text("流程已结束")
    expect(page.locator('[data-testid="dr-path"]')).to_contain_text("制作调解协议书 (record_agreement)")
    # the data reads in the form's words, not as JSON
    expect(page.locator('[data-testid="dr-path"]')).to_contain_text("调解结果（outcome）：达成协议")
    data = page.locator('[data-testid="dr-data"]')
    expect(data).to_contain_text("达成协议")
    assert not any(mark in data.inner_text() for mark in '{}"[]'), data.inner_text()
    expect(page.locator('#jf-canvas g.djs-element.jf-done[data-element-id="record_agreement"]')) \
        .to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "process-editor.png"), full_page=True)

    page.fill("#jf-note", "增加制作调解协议书")
    page.click('[data-testid="deploy"]')
    expect(page.locator('[data-testid="deploy-result"]')).to_contain_text("mediation v2")

    # the waiting case is moved to version 2 from the migration page
    page.goto(base + "/processes/mediation/migrate?to=2")
    row = page.locator('[data-testid="case-JF-WAITING"]')
    expect(row).to_contain_text("安全")
    expect(row).to_contain_text("制作调解协议书")   # the added step by its name
    expect(row.locator('span[title="record_agreement"]')).to_have_count(1)
    page.fill("#reason", "增加制作调解协议书")
    page.click('[data-testid="migrate"]')
    expect(page.locator('[data-testid="migration-results"]')).to_contain_text(
        "JF-WAITING：已迁移 v1 → v2")
    page.screenshot(path=str(screenshot_dir / "process-migrate.png"), full_page=True)

    # a case started now runs on version 2 and reaches the new step
    start_case(committed_services, "mediation", "JF-BROWSER")
    complete_step(committed_services, "JF-BROWSER", "register", {"category": "labour"})
    assert complete_step(committed_services, "JF-BROWSER", "mediate",
                         {"outcome": "agreed"}) == ["record_agreement"]
    page.goto(base + "/processes/")
    row = page.locator('[data-testid="version-mediation-2"]')
    expect(row.locator('[data-testid="running"]')).to_have_text("2")  # migrated + new
    expect(row).to_contain_text("增加制作调解协议书")
    expect(page.locator('[data-testid="version-mediation-1"] [data-testid="running"]')) \
        .to_have_text("0")
    page.screenshot(path=str(screenshot_dir / "process-catalogue.png"), full_page=True)
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def test_validation_problems_are_drawn_on_their_elements(page, live_server, owner_app,
                                                        committed_services, browser_log,
                                                        screenshot_dir):
    base = live_server(owner_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/editor?process=mediation&version=1")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.evaluate("""() => {
      const m = JiefenEditor.modeler;
      const timer = m.get('elementRegistry').get('deadline_15d');
      const def = timer.businessObject.eventDefinitions[0];
      m.get('modeling').updateModdleProperties(timer, def.timeDuration, {body: 'P2H'});
    }""")
    page.click('[data-testid="validate"]')
    expect(page.locator('[data-testid="status"]')).to_contain_text("发现问题")
    expect(page.locator('#jf-canvas g.djs-element.jf-problem-error[data-element-id="deadline_15d"]'))\
        .to_have_count(1)
    expect(page.locator('[data-testid="problem-badge-deadline_15d"]')).to_have_count(1)
    expect(page.locator('#jf-problems li[data-element-id="deadline_15d"]')).to_contain_text("P2H")
    page.screenshot(path=str(screenshot_dir / "process-editor-problems.png"), full_page=True)
    assert not browser_log.problems(), "\n".join(browser_log.problems())


def test_shipped_library_round_trips_through_the_editor_and_diffs_are_coloured(
        page, live_server, owner_app, committed_services, browser_log, screenshot_dir):
    from tests.factories import deploy_library

    deploy_library(committed_services)
    base = live_server(owner_app)
    sign_in(page, base, committed_services)
    page.goto(base + "/processes/editor?process=general_dispute&version=1")
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.click('#jf-file-tabs [data-file="joint_dispatch.bpmn"]')
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.click('#jf-file-tabs [data-file="routing.dmn"]')
    expect(page.locator('[data-testid="dmn-canvas"] table')).to_be_visible()
    files = page.evaluate("async () => await JiefenEditor.files()")
    # bpmn-js drops loopDataInputRef naming task data; the editor puts it back
    assert "<bpmn:loopDataInputRef>co_departments</bpmn:loopDataInputRef>" in \
        files["joint_dispatch.bpmn"]
    page.click('[data-testid="validate"]')
    expect(page.locator('[data-testid="status"]')).to_contain_text("校验通过")

    # deploy the round-tripped files with one renamed task, then look at the diff
    page.click('#jf-file-tabs [data-file="general_dispute.bpmn"]')
    expect(page.locator("#jf-editor")).to_have_attribute("data-jf-state", "ready")
    page.evaluate("""() => {
      const m = JiefenEditor.modeler;
      m.get('modeling').updateLabel(m.get('elementRegistry').get('register'), '登记来件（新）');
      m.get('selection').select(m.get('elementRegistry').get('route_case'));
    }""")
    expect(page.locator('[data-testid="exec-decision"]')).to_have_value("route_case")
    page.evaluate("""() => {
      const m = JiefenEditor.modeler;
      m.get('selection').select(m.get('elementRegistry').get('raise_red_risk'));
    }""")
    expect(page.locator('[data-testid="exec-operation"]')).to_have_value("raise_risk")
    page.click('[data-testid="deploy"]')
    expect(page.locator('[data-testid="deploy-result"]')).to_contain_text("general_dispute v2")
    page.goto(base + "/processes/general_dispute/diff?from=1&to=2")
    new = page.locator('[data-testid="diff-v2-general_dispute.bpmn"]')
    expect(new).to_have_attribute("data-jf-state", "ready")
    expect(new.locator('g.djs-element.jf-changed[data-element-id="register"]')).to_have_count(1)
    expect(page.locator('[data-testid="diff-table"] tr[data-element-id="register"]')) \
        .to_contain_text("名称")
    # the bpmn-js round trip itself changed nothing jiefen executes
    expect(page.locator('[data-testid="diff-table"] tbody tr')).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "process-diff.png"), full_page=True)
    assert not browser_log.problems(), "\n".join(browser_log.problems())
