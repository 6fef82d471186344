"""The input boundary over HTTP (web/boundary.py): what an attack run sent and got 500 for now
gets 404 (a path value no object has) or 422 naming the field, in Chinese; on SQLite and on
PostgreSQL (where NUL in text, 32-bit overflow and deep JSON used to be a 500)."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.web.conftest import csrf_token, post
from tests.web.test_api import BODY, _token
from tests.web.test_case_pages import INTAKE
from tests.web.test_task_pages import _task_id
from workflows.models import Case, CaseParty

NEW_APPLICANT = {"role": "applicant", "name": "吴建华", "phone": "13611112222"}


def _cases(services) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Case))


def _new_body(**change) -> dict:
    """An API intake that makes a new case (not a duplicate of the sample case)."""
    return {**BODY, "parties": [NEW_APPLICANT, BODY["parties"][1]], **change}


# -- NUL and other characters no column holds --------------------------------------------------
@pytest.mark.parametrize(("path", "field"), [
    ("/cases?status=%00", "状态"), ("/inbox?category=%00", "纠纷类型"),
    ("/cases?tier=a%01b", "层级"), ("/inbox?sort=%ED%A0%80", "排序"),
    ("/cases?%FF=1", "\ufffd"),        # a key no form has, as sent
])
def test_bad_characters_in_a_query_are_422_naming_the_field(as_role, case_no, path, field):
    """The field by its label (web/errors.py field_label), never by its id."""
    response = as_role("triage_officer").get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"<li>{field}：含有无效字符</li>" in page and "<code>" not in page


@pytest.mark.parametrize("suffix", ["", "/receipt", "/diagram.bpmn", "/diagram-state.json"])
def test_a_case_code_with_nul_is_not_found(as_role, case_no, suffix):
    assert as_role("triage_officer").get(f"/cases/{case_no}%00{suffix}").status_code == 404


@pytest.mark.parametrize("body", [b"reason=%FF%FE&purpose=contact", b"reason=\xff&purpose=contact"])
def test_a_form_field_that_is_not_utf8_is_422_naming_it(as_role, case_no, body):
    client = as_role("intake_clerk")
    body += b"&csrf_token=" + csrf_token(client, "/inbox").encode()
    response = client.post(f"/cases/{case_no}/narrative/reveal", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 422
    assert "<li>原因：含有无效字符</li>" in response.get_data(as_text=True)


def test_audit_pages_and_party_reveal_with_nul_are_not_found(as_role, services, case_no):
    assert as_role("supervisor").get(f"/audit/cases/{case_no}%00").status_code == 404
    client = as_role("intake_clerk")
    response = post(client, f"/cases/{case_no}/parties/%00/reveal", {"purpose": "contact"})
    assert response.status_code == 404


def test_api_case_and_task_with_nul_are_json_404(client, services, users, case_no):
    headers = _token(services, "triage_officer")
    got = client.get(f"/api/v1/cases/{case_no}%00", headers=headers)
    assert got.status_code == 404 and got.get_json() == {"error": "not_found"}
    done = client.post("/api/v1/tasks/x%00/complete", json={}, headers=headers)
    assert done.status_code == 404


def test_sign_in_with_nul_in_the_username_is_422(client, users):
    token = csrf_token(client)
    response = client.post("/auth/login", data={"username": "triage\x00officer",
                                                "password": "x", "csrf_token": token})
    assert response.status_code == 422
    assert "<li>用户名：含有无效字符</li>" in response.get_data(as_text=True)


def test_calendar_reason_with_nul_is_422_and_nothing_changes(as_role, services):
    response = post(as_role("admin"), "/admin/calendar/",
                    {"day": "2025-05-06", "kind": "holiday", "reason": "调休\x00"})
    assert response.status_code == 422 and "原因" in response.get_data(as_text=True)


def test_task_text_with_nul_is_422_and_the_task_stays(as_role, services, case_no):
    task_id = _task_id(services, case_no, "triage")
    response = post(as_role("triage_officer"), f"/cases/{case_no}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "研判\u0000"})
    assert response.status_code == 422
    assert _task_id(services, case_no, "triage") == task_id


def test_a_textarea_keeps_its_newlines_and_tabs(as_role, services, case_no):
    response = post(as_role("intake_clerk"), "/cases/new",
                    {**INTAKE, "description": "第一段\r\n\t第二段", "action": "preview"})
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "content", "field"), [
    ("bad.bpmn", b"\x00\x01\x02not xml", "bad.bpmn"),     # the file, by the name it was sent as
    ("a\x00.bpmn", b"<x/>", "文件"),
])
def test_uploads_with_nul_are_422(as_role, services, name, content, field):
    client = as_role("process_owner")
    data = {"csrf_token": csrf_token(client, "/inbox"), "files": (io.BytesIO(content), name)}
    response = client.post("/processes/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 422
    assert f"<li>{field}：含有无效字符</li>" in response.get_data(as_text=True)


def test_a_header_with_control_characters_is_refused(client, services, users):
    headers = {**_token(services, "triage_officer"), "X-Trace": "a\x01b"}
    response = client.get("/api/v1/processes", headers=headers)
    assert response.status_code == 422 and "X-Trace" in response.get_json()["errors"]


def test_a_request_id_that_is_no_plain_token_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-Id": "<script>\x7f"})
    assert response.headers["X-Request-Id"] != "<script>\x7f"
    kept = client.get("/healthz", headers={"X-Request-Id": "edge-42.a_b"})
    assert kept.headers["X-Request-Id"] == "edge-42.a_b"


# -- JSON ------------------------------------------------------------------------------------------
def test_deeply_nested_json_is_422_not_a_recursion_error(client, services, users, process):
    deep = "[" * 5000 + "]" * 5000
    response = client.post("/api/v1/cases", data=deep, content_type="application/json",
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"body": {
        "code": "too_deep", "params": {"limit": 16}, "message": "嵌套不能超过 16 层"}}


@pytest.mark.parametrize("raw", [b'{"summary": NaN}', b'{"people_count": Infinity}',
                                 b'{"summary": "\xff\xfe"}'])
def test_nan_infinity_and_invalid_utf8_are_not_json(client, services, users, process, raw):
    response = client.post("/api/v1/cases", data=raw, content_type="application/json",
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422 and "body" in response.get_json()["errors"]


def test_lone_surrogates_in_json_are_refused_by_field(client, services, users, process):
    raw = b'{"summary": "x\\ud800y", "parties": [{"name": "\\udcff"}]}'
    response = client.post("/api/v1/cases", data=raw, content_type="application/json",
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"summary": "含有无效字符",
                                             "parties-0-name": "含有无效字符"}


# -- numbers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("count", "message"), [
    (2147483648, "不能大于 100000"), (100001, "不能大于 100000"), (0, "不能小于 1"),
    (10**20, "不能大于 9223372036854775807"),
])
def test_api_people_count_beyond_the_forms_maximum(client, services, users, process, count,
                                                   message):
    response = client.post("/api/v1/cases", json=_new_body(people_count=count),
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"people_count": message}
    assert _cases(services) == 0


@pytest.mark.parametrize("count", ["99999999999", "100001", "9" * 40])
def test_web_people_count_beyond_the_forms_maximum(as_role, services, process, count):
    response = post(as_role("intake_clerk"), "/cases/new",
                    {**INTAKE, "people_count": count, "action": "save"})
    assert response.status_code == 422 and "不能大于 100000" in response.get_data(as_text=True)
    assert _cases(services) == 0


def test_the_forms_maximum_itself_is_accepted(client, services, users, process):
    response = client.post("/api/v1/cases", json=_new_body(people_count=100000),
                           headers=_token(services, "intake_clerk"))
    assert response.status_code == 201


@pytest.mark.parametrize("path", [
    "/processes/general_dispute/v2147483648/files/general_dispute.bpmn",
    "/processes/general_dispute/v99999999999999999999/files/general_dispute.bpmn",
    "/processes/general_dispute/migrate?to=99999999999999999999999",
    "/processes/general_dispute/migrate?to=2147483648",
    "/processes/general_dispute/diff?from=1&to=2147483648",
])
def test_version_numbers_that_cannot_exist_are_404(as_role, process, path):
    assert as_role("process_owner").get(path).status_code == 404


def test_version_ids_beyond_a_column_are_404(as_role, process):
    client = as_role("process_owner")
    assert post(client, "/processes/versions/2147483648/approve").status_code == 404
    assert post(client, "/processes/drafts/99999999999/delete").status_code == 404


def test_editor_json_ids_must_be_numbers_a_column_holds(as_role, process):
    client = as_role("process_owner")
    token = csrf_token(client, "/inbox")
    files = {"p.bpmn": "<x/>"}
    for body, field in (({"files": files, "draft_id": 10**20}, "草稿"),
                        ({"files": files, "base_version_id": "7"}, "所依据的版本"),
                        ({"files": files, "title": ["x"]}, "标题")):
        response = client.post("/processes/editor/draft", json=body,
                               headers={"X-CSRFToken": token})
        assert response.status_code == 422, body
        assert f"<li>{field}：" in response.get_data(as_text=True), body


# -- names -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "message"), [
    ("\u200b", "不能只由空白或不可见字符组成"), ("\u202e", "不能只由空白或不可见字符组成"),
    ("\ufeff", "不能只由空白或不可见字符组成"), ("\u200b\u202e\ufeff", "不能只由空白或不可见字符组成"),
    ("吴\u202e建华", "含有无效字符"),
])
def test_invisible_party_names_are_refused_on_the_api(client, services, users, process, name,
                                                      message):
    body = _new_body(parties=[{**NEW_APPLICANT, "name": name}])
    response = client.post("/api/v1/cases", json=body, headers=_token(services, "intake_clerk"))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"parties-0-name": message}
    assert _cases(services) == 0


def test_invisible_party_names_are_refused_on_the_form(as_role, services, process):
    response = post(as_role("intake_clerk"), "/cases/new",
                    {**INTAKE, "parties-1-name": "\u200b\ufeff", "action": "save"})
    assert response.status_code == 422
    assert "不能只由空白或不可见字符组成" in response.get_data(as_text=True)
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CaseParty)) == 0
