"""The guided step page: form from BPMN, field errors kept (422), 409 with data kept, claim."""

from __future__ import annotations

import re

from lxml import html as lxml_html
from sqlalchemy import select

from tests.web.conftest import post
from workflows.casework import tasks as task_service
from workflows.models import OpenTask


def _task_id(services, case_no: str, bpmn_id: str) -> str:
    with services.new_uow() as uow:
        from workflows.cases.lookup import find_case

        case = find_case(uow.session, case_no)
        return uow.session.scalars(select(OpenTask.task_id).where(
            OpenTask.case_id == case.id, OpenTask.bpmn_id == bpmn_id)).one()


def kept_rows(page: str) -> str:
    """The table of what a refused submission sent, a row a line: 'label text'."""
    table = lxml_html.fromstring(page).xpath("//*[@data-testid='kept-values']")[0]
    return "\n".join(" ".join(cell.text_content().strip() for cell in row)
                     for row in table.xpath(".//tr"))


def test_step_page_shows_instructions_form_and_what_follows(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    page = as_role("triage_officer").get(f"/cases/{case_no}/tasks/{task_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>核实</strong>" in text and case_no in text  # sandboxed Markdown instructions
    assert 'name="department"' in text and 'name="triage_note"' in text
    assert 'data-testid="next-steps"' in text and "派单 → 办理" in text


def test_invalid_submission_is_422_with_errors_and_values_kept(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    client = as_role("triage_officer")
    response = post(client, f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "x" * 60})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<option value="ZJ" selected>', text)
    assert 'value="' + "x" * 60 + '"' in text and "最多 50 个字符" in text
    assert _task_id(services, case_no, "triage") == task_id  # nothing completed


def test_unknown_fields_are_refused(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    response = post(as_role("triage_officer"), f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "ok", "approved": "true"})
    assert response.status_code == 422 and "未知字段" in response.get_data(as_text=True)


def test_valid_submission_advances_the_case(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    client = as_role("triage_officer")
    response = post(client, f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "住建局牵头"})
    assert response.status_code == 302 and response.headers["Location"] == f"/cases/{case_no}"
    assert "已提交" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _task_id(services, case_no, "handle")


def test_htmx_submission_redirects_with_a_header(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    response = post(as_role("triage_officer"), f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "ok"}, headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == f"/cases/{case_no}"


def test_a_task_completed_meanwhile_gives_409_and_keeps_the_input(as_role, services, users,
                                                                   case_no):
    task_id = _task_id(services, case_no, "triage")
    client = as_role("triage_officer")
    client.get(f"/cases/{case_no}/tasks/{task_id}")
    task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                               case_no=case_no, task_id=task_id,
                               raw={"department": "SJ", "triage_note": "同事先办"})
    response = post(client, f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "我的研判意见"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "已由他人处理" in text and "我的研判意见" in text
    assert f'href="/cases/{case_no}"' in text
    # what was typed in words: each field by its label, a chosen option by its name
    rows = kept_rows(text)
    assert "承办部门 区住建局" in rows and "研判意见 我的研判意见" in rows
    assert "department" not in rows and "triage_note" not in rows and "ZJ" not in rows


def test_handler_of_the_department_completes_handling(as_role, services, users, case_no):
    task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                               case_no=case_no, task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    handle = _task_id(services, case_no, "handle")
    client = as_role("dept_handler")
    assert case_no in client.get("/inbox").get_data(as_text=True)
    assert client.get(f"/cases/{case_no}/tasks/{handle}").status_code == 200
    response = post(client, f"/cases/{case_no}/tasks/{handle}", {"result_summary": "已修复电梯"})
    assert response.status_code == 302


def test_handler_of_another_department_is_refused(as_role, services, users, case_no):
    task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                               case_no=case_no, task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "SJ", "triage_note": "ok"})
    handle = _task_id(services, case_no, "handle")
    client = as_role("dept_handler")  # a ZJ handler; the order went to SJ
    response = client.get(f"/cases/{case_no}/tasks/{handle}")
    assert response.status_code == 403 and "周" not in response.get_data(as_text=True)


def test_claim_and_release(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    client = as_role("triage_officer")
    assert post(client, f"/cases/{case_no}/tasks/{task_id}/claim").status_code == 302
    with services.new_uow() as uow:
        row = uow.session.scalars(select(OpenTask).where(OpenTask.task_id == task_id)).one()
        assert row.claimed_by is not None
    assert "释放此任务" in client.get(f"/cases/{case_no}/tasks/{task_id}").get_data(as_text=True)
    assert post(client, f"/cases/{case_no}/tasks/{task_id}/release").status_code == 302
    with services.new_uow() as uow:
        row = uow.session.scalars(select(OpenTask).where(OpenTask.task_id == task_id)).one()
        assert row.claimed_by is None


def test_unknown_task_is_404(as_role, case_no):
    response = as_role("triage_officer").get(
        f"/cases/{case_no}/tasks/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404


def test_a_concurrent_change_offers_to_resubmit_the_same_values(as_role, services, case_no,
                                                               monkeypatch):
    from workflows.core.errors import ConcurrentUpdate

    def lost_the_race(*args, **kwargs):
        raise ConcurrentUpdate("the case was changed by someone else meanwhile")

    task_id = _task_id(services, case_no, "triage")
    client = as_role("triage_officer")
    monkeypatch.setattr(task_service, "complete_task", lost_the_race)
    response = post(client, f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "我的研判意见"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "重新提交" in text
    assert '<input type="hidden" name="triage_note" value="我的研判意见">' in text
    assert '<input type="hidden" name="department" value="ZJ">' in text   # sent as typed
    assert "承办部门 区住建局" in kept_rows(text)                          # shown in words
    assert f'action="/cases/{case_no}/tasks/{task_id}"' in text


def test_a_checkbox_is_never_marked_required_since_unticked_means_no(app):
    from engine.forms import FormField, validate_submission
    from web.forms import field_dict

    flag = FormField(id="parties_signed", type="boolean", label="双方已签名",
                     validation={"required": None})
    note = FormField(id="note", type="string", label="说明", validation={"required": None})
    assert validate_submission([flag], {}) == {"parties_signed": False}   # unticked is accepted
    assert field_dict(flag)["required"] is False
    assert field_dict(note)["required"] is True
    with app.test_request_context():
        html = app.jinja_env.from_string(
            '{% import "_macros.html" as m %}{{ m.form_field(f) }}').render(f=field_dict(flag))
    assert "jf-required" not in html and " required" not in html
