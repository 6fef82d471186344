"""The JSON API: tokens, idempotent intake, status, tasks, completion, history, OpenAPI checked
against the real responses."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from sqlalchemy import func, select

from engine.models import AuditEvent
from web.api.openapi import DOCUMENT
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.core.errors import InvalidInput
from workflows.models import Case

BODY = {
    "category": "property", "summary": "电梯停运，业主拒交物业费", "people_count": 62,
    "description": "锦绣家园3栋两部电梯已停运两周，物业称需业主分摊维修费。",
    "channel_ref": "12345-20250704-0001",
    "parties": [{"role": "applicant", "name": "周海燕", "phone": "13912345678",
                 "id_number": "310101196306060025", "contact_preference": "sms",
                 "vulnerable": ["elderly"]},
                {"role": "respondent", "name": "恒安物业服务有限公司"}],
}


def _token(services, username: str, channel: str = "hotline_12345") -> dict:
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=username, channel=channel)
    return {"Authorization": f"Bearer {issued.token}"}


@pytest.fixture
def clerk(services, users, process):
    return _token(services, "intake_clerk")


@pytest.fixture
def triage(services, users, process):
    return _token(services, "triage_officer")


def _openapi_path(path: str) -> str:
    return re.sub(r"/JF-\d{4}-\d{6}", "/{case_no}", re.sub(
        r"/tasks/[0-9a-f-]{36}/", "/tasks/{task_id}/", path))


def conforms(response, path: str, method: str = "get"):
    """Validate a response body against the OpenAPI document's schema for its status."""
    spec = DOCUMENT["paths"][_openapi_path(path)][method]["responses"][str(response.status_code)]
    schema = spec["content"]["application/json"]["schema"]
    validator = Draft202012Validator({**schema, "components": DOCUMENT["components"]})
    validator.validate(response.get_json())
    return response.get_json()


def test_openapi_document_is_valid_openapi_3_1(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    validate_spec(response.get_json())


def test_every_api_route_is_documented(app):
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_v1."):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in DOCUMENT["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in DOCUMENT["paths"][path], (path, method)


def _refused(services) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "access_denied", AuditEvent.object_type == "api_token"))


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer jf_deadbeef_" + "x" * 43,
                                    "Basic dXNlcjpwYXNz"])
def test_missing_or_unknown_token_is_401_and_audited(client, services, users, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/cases/JF-2025-000001", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    conforms(response, "/api/v1/cases/JF-2025-000001")
    assert _refused(services) == 1


def test_revoked_token_is_401(client, services, clerk):
    tokens.revoke_token(services.new_uow(), SYSTEM, prefix=clerk["Authorization"].split()[1])
    assert client.get("/api/v1/cases/JF-2025-000001", headers=clerk).status_code == 401


@pytest.mark.parametrize("days", [0, -1, 367, 99999999, None, True, "30"])
def test_a_token_lifetime_outside_1_to_366_days_is_refused(services, users, days):
    with pytest.raises(InvalidInput) as refused:
        tokens.issue_token(services.new_uow(), SYSTEM, username="intake_clerk", days=days)
    assert set(refused.value.field_errors) == {"days"}


def test_a_token_lives_90_days_by_default_then_is_401(client, services, users, clock):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="intake_clerk")
    headers = {"Authorization": f"Bearer {issued.token}"}
    clock.advance(timedelta(days=90, seconds=-1))
    assert client.get("/api/v1/cases/JF-2025-000001", headers=headers).status_code == 404
    clock.advance(timedelta(seconds=1))
    assert client.get("/api/v1/cases/JF-2025-000001", headers=headers).status_code == 401


def test_api_ignores_cookies_and_csrf(client, clerk):
    """Bearer tokens, no cookies: POST works without a CSRF token and sets no session cookie."""
    response = client.post("/api/v1/cases", json=BODY, headers=clerk)
    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers


def test_intake_creates_one_case(client, clerk, services):
    response = client.post("/api/v1/cases", json=BODY, headers={**clerk, "Idempotency-Key": "k1"})
    body = conforms(response, "/api/v1/cases", "post")
    assert response.status_code == 201 and body["linked_as"] == "new"
    assert body["status_url"] == f"/api/v1/cases/{body['case_no']}"
    assert "Idempotent-Replayed" not in response.headers
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == body["case_no"])).one()
        assert case.channel == "hotline_12345" and case.channel_ref == "12345-20250704-0001"


def test_intake_without_a_key_answers_the_new_cases_code_and_status(client, clerk, services):
    response = client.post("/api/v1/cases", json=BODY, headers=clerk)
    body = conforms(response, "/api/v1/cases", "post")
    with services.new_uow() as uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == body["case_no"])).one()
        assert (body["status"], body["linked_as"]) == (case.status, "new")
    assert body["status_url"] == f"/api/v1/cases/{body['case_no']}" and body["submission_id"]


def test_same_key_twice_gives_one_case_and_the_stored_response(client, clerk, services):
    """MI-1: a re-delivery with the same key returns the original code."""
    first = client.post("/api/v1/cases", json=BODY, headers={**clerk, "Idempotency-Key": "k2"})
    reordered = json.dumps(dict(reversed(list(BODY.items()))), ensure_ascii=False)
    second = client.post("/api/v1/cases", data=reordered, content_type="application/json",
                         headers={**clerk, "Idempotency-Key": "k2"})
    assert second.status_code == 201 and second.headers["Idempotent-Replayed"] == "true"
    assert second.data == first.data
    conforms(second, "/api/v1/cases", "post")
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1


def test_same_key_other_body_is_422_and_creates_nothing(client, clerk, services):
    """MI-2."""
    client.post("/api/v1/cases", json=BODY, headers={**clerk, "Idempotency-Key": "k3"})
    response = client.post("/api/v1/cases", json={**BODY, "people_count": 63},
                           headers={**clerk, "Idempotency-Key": "k3"})
    assert response.status_code == 422
    assert conforms(response, "/api/v1/cases", "post")["error"] == "idempotency_key_reused"
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1


def test_keys_are_per_token(client, services, clerk, users):
    other = _token(services, "triage_officer", channel="grid_app")
    a = client.post("/api/v1/cases", json=BODY, headers={**clerk, "Idempotency-Key": "same"})
    someone_else = {"name": "李四", "phone": "13700000000"}
    b = client.post("/api/v1/cases", json={**BODY, "parties": [someone_else]},
                    headers={**other, "Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201
    assert a.get_json()["case_no"] != b.get_json()["case_no"]


def test_field_errors_are_422(client, clerk):
    bad = {**BODY, "parties": [{"name": "周海燕", "id_number": "310101196306060026"}],
           "people_count": "many", "extra": 1}
    response = client.post("/api/v1/cases", json=bad, headers=clerk)
    body = conforms(response, "/api/v1/cases", "post")
    assert response.status_code == 422
    assert {"people_count", "extra"} <= set(body["errors"])
    assert body["fields"]["people_count"] == {"code": "not_integer", "params": {},
                                              "message": body["errors"]["people_count"]}
    assert body["fields"]["extra"]["code"] == "unknown_field"
    not_json = client.post("/api/v1/cases", data="x", headers=clerk)
    assert not_json.status_code == 422
    assert not_json.get_json()["fields"]["body"]["code"] == "body_not_json"


def test_a_role_without_intake_rights_gets_403(client, services, users, process):
    headers = _token(services, "dept_handler")
    response = client.post("/api/v1/cases", json=BODY, headers=headers)
    assert response.status_code == 403
    assert "周海燕" not in response.get_data(as_text=True)
    conforms(response, "/api/v1/cases", "post")


def _create(client, headers) -> str:
    return client.post("/api/v1/cases", json=BODY, headers=headers).get_json()["case_no"]


def test_case_status_and_tasks(client, clerk, triage):
    code = _create(client, clerk)
    status = conforms(client.get(f"/api/v1/cases/{code}", headers=clerk), f"/api/v1/cases/{code}")
    assert status["case_no"] == code and status["channel"] == "hotline_12345"
    assert "周海燕" not in json.dumps(status, ensure_ascii=False)
    tasks = conforms(client.get(f"/api/v1/cases/{code}/tasks", headers=triage),
                     f"/api/v1/cases/{code}/tasks")["tasks"]
    assert [t["bpmn_id"] for t in tasks] == ["triage"] and tasks[0]["can_complete"]
    assert {f["id"] for f in tasks[0]["form"]} == {"department", "triage_note"}
    mine = conforms(client.get(f"/api/v1/cases/{code}/tasks", headers=clerk),
                    f"/api/v1/cases/{code}/tasks")["tasks"]
    assert mine[0]["can_complete"] is False and mine[0]["form"] is None


def test_complete_task_422_then_200_then_409(client, clerk, triage):
    code = _create(client, clerk)
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    path = f"/api/v1/tasks/{task_id}/complete"
    invalid = client.post(path, json={"department": "XX"}, headers=triage)
    assert invalid.status_code == 422
    assert set(conforms(invalid, path, "post")["errors"]) == {"department", "triage_note"}
    done = client.post(path, json={"department": "ZJ", "triage_note": "住建局牵头"}, headers=triage)
    assert conforms(done, path, "post")["next_tasks"][0]["bpmn_id"] == "handle"
    again = client.post(path, json={"department": "ZJ", "triage_note": "再次提交"}, headers=triage)
    assert again.status_code == 409
    assert conforms(again, path, "post")["error"] == "task_no_longer_available"


def test_complete_task_not_permitted_is_403(client, services, clerk, users):
    code = _create(client, clerk)
    triage = _token(services, "triage_officer")
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    response = client.post(f"/api/v1/tasks/{task_id}/complete",
                           json={"department": "ZJ", "triage_note": "x"}, headers=clerk)
    assert response.status_code == 403
    conforms(response, f"/api/v1/tasks/{task_id}/complete", "post")


def test_unknown_task_and_case_are_404(client, clerk):
    response = client.post("/api/v1/tasks/00000000-0000-4000-8000-000000000000/complete",
                           json={}, headers=clerk)
    assert response.status_code == 404
    assert client.get("/api/v1/cases/JF-2025-999999", headers=clerk).status_code == 404


def test_history_is_ordered_and_free_of_access_metadata(client, clerk, triage):
    code = _create(client, clerk)
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    client.post(f"/api/v1/tasks/{task_id}/complete",
                json={"department": "ZJ", "triage_note": "ok"}, headers=triage)
    events = conforms(client.get(f"/api/v1/cases/{code}/history", headers=clerk),
                      f"/api/v1/cases/{code}/history")["events"]
    seqs = [e["seq"] for e in events]
    assert sorted(set(seqs)) == list(range(1, max(seqs) + 1))   # every event of the chain
    order = [(e["seq"], e.get("transition", 0)) for e in events]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert any("transition" in e for e in events)     # a step's transitions, one line each
    actions = [e["action"] for e in events]
    assert actions.index("case_opened") < actions.index("task_completed")
    text = json.dumps(events, ensure_ascii=False)
    assert "13912345678" not in text and "周海燕" not in text and '"ip"' not in text


def test_a_case_outside_the_tokens_scope_is_403(client, services, clerk, users):
    code = _create(client, clerk)
    handler = _token(services, "dept_handler")
    response = client.get(f"/api/v1/cases/{code}", headers=handler)
    assert response.status_code == 403
    conforms(response, f"/api/v1/cases/{code}")


def test_completing_a_task_of_a_case_outside_the_tokens_scope_is_403_and_audited(
        client, services, clerk, triage, users):
    code = _create(client, clerk)
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    handler = _token(services, "dept_handler")
    path = f"/api/v1/tasks/{task_id}/complete"
    response = client.post(path, json={"department": "ZJ", "triage_note": "x"}, headers=handler)
    assert response.status_code == 403
    conforms(response, path, "post")
    with services.new_uow() as uow:
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == code))
        denied = uow.session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "access_denied", AuditEvent.case_id == case_id)).all()
    assert [json.loads(payload)["task_id"] for payload in denied] == [task_id]
    tasks = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()["tasks"]
    assert [t["task_id"] for t in tasks] == [task_id], "nothing changed"


def test_a_step_failing_over_the_api_is_a_409_incident_of_the_tasks_case(
        client, services, clerk, triage, monkeypatch):
    from engine.errors import EngineStepFailed
    from workflows.casework import tasks as task_service

    def failing(*args, **kwargs):
        raise EngineStepFailed("an operation failed", "route")

    code = _create(client, clerk)
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    monkeypatch.setattr(task_service, "after_step", failing)
    path = f"/api/v1/tasks/{task_id}/complete"
    response = client.post(path, json={"department": "ZJ", "triage_note": "x"}, headers=triage)
    assert response.status_code == 409
    body = conforms(response, path, "post")
    assert (body["error"], body["case_no"]) == ("process_incident", code)
    with services.new_uow() as uow:
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == code))
        raised = uow.session.scalars(select(AuditEvent.action).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "incident_raised")).all()
    assert raised == ["incident_raised"]


# leaders see only cases escalated to them; process owners no case at all (docs/case-services.md)
API_SEE = {"intake_clerk", "triage_officer", "supervisor", "auditor"}


@pytest.mark.parametrize("role", ["intake_clerk", "triage_officer", "mediator", "dept_handler",
                                  "supervisor", "leader", "process_owner", "auditor", "admin"])
def test_api_applies_the_page_policy_to_every_role(client, services, users, case_no, role):
    """The same scope as the pages (tests/web/test_access_matrix.py), token by token."""
    headers = _token(services, role)
    for path in (f"/api/v1/cases/{case_no}", f"/api/v1/cases/{case_no}/tasks",
                 f"/api/v1/cases/{case_no}/history"):
        response = client.get(path, headers=headers)
        expected = 200 if role in API_SEE else 403
        assert response.status_code == expected, (role, path)
        conforms(response, path)
        assert "周海燕" not in response.get_data(as_text=True)
