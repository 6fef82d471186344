"""The database dump holds no clear ID number, phone number, bank card number or e-mail address,
after a run that typed them into every free-text field a user reaches (docs/personal-data.md):

* the party fields take them, encrypted and masked;
* every free-text field refuses them with a field error naming what was found (summary and
  narrative on the intake form and the API, task text on the page and the API, the rating
  comment, reveal and export reasons, the deadline request reason and decision note, the
  supervision reply, a supervisor's notice by hand, the calendar reason, a process draft's title, process retire and migration
  reasons);
* the case then runs with clean text (registration, triage, handling, rating), and every row of
  every table — case rows, documents, audit payloads, instance state — is searched for the
  values, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.db import Base
from tests.web.conftest import csrf_token, post
from tests.web.test_api import BODY, _token
from tests.web.test_case_pages import INTAKE
from tests.web.test_task_pages import _task_id
from workflows.cases.lookup import find_case
from workflows.models import CaseParty

ID_NUMBER, MOBILE, LANDLINE = "110101199003070038", "13800000088", "010-62345678"
CARD, EMAIL = "6222021234567890128", "wang.wu@example.com"
TYPED = f"申请人王五 身份证{ID_NUMBER} 电话{MOBILE} 固话{LANDLINE} 卡号{CARD} 邮箱{EMAIL}"
SECRETS = (ID_NUMBER, MOBILE, "62345678", CARD, EMAIL)
REFUSED = "文字中不能填写身份证号、电话、银行卡号或电子邮箱"


def _refused(response, field: str, *, words: bool = True) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 422, (field, response.status_code, text[:300])
    assert REFUSED in text or not words, field


def _dump(services) -> str:
    """Every value of every row of every table, as text."""
    lines = []
    with services.session_factory() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                lines.append(" ".join(str(value) for value in row))
    return "\n".join(lines)


@pytest.fixture
def typed(app, services, users, process):
    """Type the values everywhere; return the case that was registered with clean text."""
    clerk = app.test_client()
    from tests.web.conftest import login

    login(clerk, "intake_clerk")
    party = {"parties-0-id_number": ID_NUMBER, "parties-0-phone": MOBILE}
    for field in ("summary", "description"):
        _refused(post(clerk, "/cases/new", {**INTAKE, **party, field: TYPED, "action": "save"}),
                 field)
    api = app.test_client()
    clerk_token = _token(services, "intake_clerk")
    for field in ("summary", "description"):
        response = api.post("/api/v1/cases", json={**BODY, field: TYPED}, headers=clerk_token)
        assert response.status_code == 422 and REFUSED in response.get_json()["errors"][field]
    saved = post(clerk, "/cases/new", {**INTAKE, **party, "action": "save"})
    assert saved.status_code == 302
    case_no = re.search(r"/cases/([^/]+)/receipt", saved.headers["Location"]).group(1)
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        party_id = uow.session.scalar(select(CaseParty.party_id).where(
            CaseParty.case_id == case.id))
    for url in (f"/cases/{case_no}/parties/{party_id}/reveal", f"/cases/{case_no}/narrative/reveal"):
        _refused(post(clerk, url, {"purpose": "contact", "reason": TYPED}), url)

    triage = app.test_client()
    login(triage, "triage_officer")
    task = _task_id(services, case_no, "triage")
    _refused(post(triage, f"/cases/{case_no}/tasks/{task}",
                  {"department": "ZJ", "triage_note": TYPED}), "triage_note")
    response = api.post(f"/api/v1/tasks/{task}/complete", json={
        "department": "ZJ", "triage_note": TYPED}, headers=_token(services, "triage_officer"))
    assert response.status_code == 422 and REFUSED in response.get_json()["errors"]["triage_note"]
    assert post(triage, f"/cases/{case_no}/tasks/{task}",
                {"department": "ZJ", "triage_note": "住建局牵头"}).status_code == 302

    handler = app.test_client()
    login(handler, "dept_handler")
    task = _task_id(services, case_no, "handle")
    _refused(post(handler, f"/cases/{case_no}/tasks/{task}", {"result_summary": TYPED}),
             "result_summary")
    # the test process has no deadline clock: the page shows no request form to put words on
    _refused(post(handler, f"/cases/{case_no}/deadlines/request",
                  {"kind": "handling", "request_kind": "suspend", "reason": TYPED}), "reason",
             words=False)
    _refused(post(handler, "/supervision/notices/1/reply", {"note": TYPED}), "note",
             words=False)  # the words go under the notice's own form
    assert post(handler, f"/cases/{case_no}/tasks/{task}",
                {"result_summary": "电梯已修复"}).status_code == 302

    _refused(post(clerk, f"/cases/{case_no}/satisfaction",
                  {"rating": "satisfied", "comment": TYPED}), "comment")
    assert post(clerk, f"/cases/{case_no}/satisfaction",
                {"rating": "satisfied", "comment": "满意"}).status_code in (200, 302)

    supervisor = app.test_client()
    login(supervisor, "supervisor")
    _refused(post(supervisor, f"/cases/{case_no}/deadlines/decide",
                  {"request_id": "1", "decision": "approve", "note": TYPED}), "note")
    _refused(post(supervisor, f"/cases/{case_no}/deadlines/notice",
                  {"level": "1", "reason": TYPED}), "notice reason",
             words=False)  # the case is closed by now: the page shows no notice form
    auditor = app.test_client()
    login(auditor, "auditor")
    _refused(post(auditor, f"/audit/cases/{case_no}/export.json",
                  {"purpose": "internal_audit", "reason": TYPED}), "export reason")
    admin = app.test_client()
    login(admin, "admin")
    _refused(post(admin, "/admin/calendar/", {"day": "2025-05-06", "kind": "holiday",
                                              "reason": TYPED}), "calendar reason")
    owner = app.test_client()
    login(owner, "process_owner")
    _refused(post(owner, f"/processes/versions/{process[0].id}/retire", {"reason": TYPED}),
             "retire reason")
    drafted = owner.post("/processes/editor/draft", json={
        "files": {"general_dispute.bpmn": "<definitions/>"}, "title": TYPED},
        headers={"X-CSRFToken": csrf_token(owner, "/inbox")})
    assert drafted.status_code == 422 and "title" in drafted.get_data(as_text=True)
    migrated = post(owner, "/processes/general_dispute/migrate?to=1",
                    {"reason": TYPED, "case_no": case_no})
    assert REFUSED in migrated.get_data(as_text=True)
    assert csrf_token(clerk, "/inbox")  # the sessions survived every refusal
    return case_no


def test_the_dump_holds_no_typed_personal_data(services, typed):
    dump = _dump(services)
    assert typed in dump  # the case is there, with its parties encrypted
    assert [value for value in SECRETS if value in dump] == []


def test_the_party_fields_keep_the_values_encrypted_and_masked(as_role, services, typed):
    page = as_role("intake_clerk").get(f"/cases/{typed}").get_data(as_text=True)
    assert "138****0088" in page and MOBILE not in page
