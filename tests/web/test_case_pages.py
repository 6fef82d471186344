"""Inbox, case list, intake with duplicate preview, receipt, case page, reveal, diagram."""

from __future__ import annotations

from lxml import html as lxml_html
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import new_case, post
from workflows.models import Case

INTAKE = {
    "channel": "hotline_12345", "channel_ref": "12345-20250704-0001", "category": "property",
    "urgency": "general", "people_count": "62", "summary": "电梯停运两周，业主拒交物业费",
    "description": "锦绣家园3栋两部电梯已停运两周，物业称需业主分摊维修费。",
    "parties-0-role": "applicant", "parties-0-name": "周海燕",
    "parties-0-phone": "13912345678", "parties-0-id_number": "310101196306060025",
    "parties-0-address": "示范区西城街道锦绣家园3栋", "parties-0-contact_preference": "sms",
    "parties-0-vulnerable-elderly": "true",
    "parties-1-role": "respondent", "parties-1-name": "恒安物业服务有限公司",
}


def _actions(services, case_no=None) -> list[str]:
    with services.new_uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_inbox_lists_the_triage_task_with_its_case(as_role, case_no):
    page = as_role("triage_officer").get("/inbox").get_data(as_text=True)
    assert case_no in page and "分流研判" in page and 'data-task="triage"' in page


def test_inbox_filters_and_sort_use_allow_lists(as_role, case_no):
    client = as_role("triage_officer")
    assert case_no in client.get("/inbox?category=property&sort=risk").get_data(as_text=True)
    assert case_no not in client.get("/inbox?category=labour").get_data(as_text=True)
    hostile = client.get("/inbox?sort=name;DROP TABLE case--&scope=1=1")
    assert hostile.status_code == 200 and case_no in hostile.get_data(as_text=True)


def test_inbox_htmx_request_gets_only_the_rows(as_role, case_no):
    response = as_role("triage_officer").get("/inbox", headers={"HX-Request": "true"})
    text = response.get_data(as_text=True)
    assert "<html" not in text and case_no in text


def test_inbox_of_another_department_does_not_show_the_task(as_role, case_no):
    assert case_no not in as_role("dept_handler").get("/inbox").get_data(as_text=True)


def test_case_list_shows_visible_cases_without_personal_data(as_role, case_no):
    page = as_role("triage_officer").get("/cases").get_data(as_text=True)
    assert case_no in page and "周海燕" not in page and "13912345678" not in page


def test_intake_preview_then_save_gives_a_receipt_with_the_code(as_role, process):
    client = as_role("intake_clerk")
    assert "登记来件" in client.get("/cases/new").get_data(as_text=True)
    preview = post(client, "/cases/new", {**INTAKE, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200 and 'data-kind="new"' in text and 'data-testid="save"' in text
    saved = post(client, "/cases/new", {**INTAKE, "action": "save"})
    assert saved.status_code == 302
    receipt = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "矛盾纠纷受理回执" in receipt and "JF-2025-" in receipt


def test_intake_shows_the_existing_case_before_saving_a_duplicate(as_role, services, users,
                                                                  case_no):
    client = as_role("intake_clerk")
    preview = post(client, "/cases/new", {**INTAKE, "action": "preview"})
    text = preview.get_data(as_text=True)
    assert 'data-kind="duplicate"' in text and case_no in text
    saved = post(client, "/cases/new", {**INTAKE, "action": "save"})
    assert f"/cases/{case_no}/receipt" in saved.headers["Location"]


def test_intake_field_errors_keep_what_was_typed(as_role, process):
    client = as_role("intake_clerk")
    bad = {**INTAKE, "parties-0-id_number": "310101196306060026", "description": "",
           "action": "preview"}
    response = post(client, "/cases/new", bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="f-parties-0-id_number"' in text and "is-invalid" in text
    assert 'value="13912345678"' in text


def test_intake_is_refused_to_roles_that_do_not_register(as_role, services, process):
    response = as_role("mediator").get("/cases/new")
    assert response.status_code == 403
    assert "access_denied" in _actions(services)


def test_case_page_masks_parties_and_records_the_view(as_role, services, case_no):
    page = as_role("triage_officer").get(f"/cases/{case_no}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "周*" in text and "139****5678" in text and "3101**********0025" in text
    assert "周海燕" not in text and "13912345678" not in text
    assert "party_viewed" in _actions(services)


def test_reveal_needs_a_purpose_and_is_audited(as_role, services, case_no):
    client = as_role("triage_officer")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    party_id = page.split('data-party="')[1].split('"')[0]
    url = f"/cases/{case_no}/parties/{party_id}/reveal"
    refused = post(client, url, {"purpose": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 422 and "13912345678" not in refused.get_data(as_text=True)
    shown = post(client, url, {"purpose": "contact", "reason": "回访"},
                 headers={"HX-Request": "true"})
    assert shown.status_code == 200 and "13912345678" in shown.get_data(as_text=True)
    assert "party_unmasked" in _actions(services)
    assert "13912345678" not in client.get(f"/cases/{case_no}").get_data(as_text=True)


def test_reveal_without_htmx_renders_the_case_page_once(as_role, case_no):
    client = as_role("triage_officer")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    party_id = page.split('data-party="')[1].split('"')[0]
    shown = post(client, f"/cases/{case_no}/parties/{party_id}/reveal", {"purpose": "contact"})
    assert "周海燕" in shown.get_data(as_text=True)


def test_a_buttons_address_opened_directly_says_what_it_means(as_role, case_no):
    """405 in words, not the English reason phrase."""
    client = as_role("triage_officer")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    party_id = page.split('data-party="')[1].split('"')[0]
    opened = client.get(f"/cases/{case_no}/parties/{party_id}/reveal")
    text = _error_text(opened.get_data(as_text=True))
    assert opened.status_code == 405 and "不能直接打开" in text
    assert "Method" not in text and "Allowed" not in text


def _error_text(page: str) -> str:
    """All the text of an error page's body, <code> included."""
    return lxml_html.fromstring(page).xpath("//*[@data-status]")[0].text_content()


def test_auditor_sees_masked_data_but_cannot_reveal(as_role, services, case_no):
    client = as_role("auditor")
    text = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "周*" in text and "查看完整信息" not in text
    party_id = text.split('data-party="')[1].split('"')[0]
    refused = post(client, f"/cases/{case_no}/parties/{party_id}/reveal", {"purpose": "contact"})
    assert refused.status_code == 403 and "周海燕" not in refused.get_data(as_text=True)


def test_unknown_case_is_404(as_role, users):
    assert as_role("triage_officer").get("/cases/JF-2025-999999").status_code == 404


def test_diagram_xml_and_state(as_role, case_no):
    client = as_role("triage_officer")
    xml = client.get(f"/cases/{case_no}/diagram.bpmn")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert b'id="general_dispute"' in xml.data
    state = client.get(f"/cases/{case_no}/diagram-state.json").get_json()
    assert state["process_id"] == "general_dispute"
    assert "start" in state["completed"] and state["current"] == ["triage"]


def test_case_page_lists_the_open_task_and_the_timeline(as_role, case_no):
    text = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'data-task="triage"' in text and 'data-action="case_opened"' in text
    assert 'data-bpmn-url="/cases/' in text and 'data-state-url="/cases/' in text


def test_the_timeline_names_machine_actors_and_messages_in_words(as_role, services, case_no):
    from workflows.audit.log import AuditAction
    from workflows.cases.lookup import find_case
    from workflows.core.actors import SCHEDULER

    with services.new_uow() as uow:   # what a rating message taken in by the scheduler records
        case = find_case(uow.session, case_no)
        uow.audit.record(AuditAction.MESSAGE_RECEIVED, SCHEDULER, case=case,
                         object_type="instance", object_id=case.workflow_instance_id,
                         name="rating")
        uow.commit()
    text = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    timeline = text[text.index('data-testid="timeline"'):]
    assert "收到消息</strong>「满意度评价」" in timeline and "定时任务" in timeline
    assert "rating" not in timeline and "scheduler" not in timeline


def test_receipt_shows_the_code(as_role, services, users, process):
    code = new_case(services, users, phone="13800001111")
    text = as_role("intake_clerk").get(f"/cases/{code}/receipt").get_data(as_text=True)
    assert code in text and "一案一码" in text


def test_a_case_without_a_process_says_so_instead_of_a_diagram_that_cannot_load(as_role, services,
                                                                                 case_no):
    """A case kept from before jiefen (the demo's year of closed cases, an import) has no
    process instance: the page says there is no diagram rather than failing to load one."""
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        case.workflow_instance_id = None
        uow.commit()
    text = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'data-testid="no-diagram"' in text and "没有流程图" in text
    assert "data-bpmn-url" not in text


def test_a_refused_reveal_without_javascript_names_the_field_in_words(as_role, case_no):
    """Without htmx the refusal is the 422 page: the field by its label, never its id."""
    client = as_role("triage_officer")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    party_id = page.split('data-party="')[1].split('"')[0]
    refused = post(client, f"/cases/{case_no}/parties/{party_id}/reveal", {"purpose": ""})
    text = _error_text(refused.get_data(as_text=True))
    assert refused.status_code == 422 and "目的：请选择查看目的" in text
    assert "purpose" not in text
    post(client, "/i18n/locale/en")
    english = post(client, f"/cases/{case_no}/parties/{party_id}/reveal",
                   {"purpose": ""}).get_data(as_text=True)
    assert "Purpose: Choose a purpose" in _error_text(english) and "<code>" not in english
