"""Every status of every API endpoint: docs/api.md lists the same ones as the OpenAPI document,
and the error answers (401, 403, 405, 409, 413, 429, 500) are the documented JSON bodies."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.web.test_api import BODY, _create, _token, conforms
from web import create_app
from web.api.openapi import DOCUMENT
from workflows.casework import tasks as task_service
from workflows.casework import views as case_views
from workflows.core.errors import ConcurrentUpdate
from workflows.intake import api as intake_api
from workflows.intake import register
from workflows.processes import catalogue

API_DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
ROW = re.compile(r"^\| `(GET|POST) (/api/v1/[^`]*)` \|[^|]*\|(.*)\|$")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_the_documented_statuses_are_those_of_the_openapi_document():
    rows = {}
    for line in API_DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            method, path, answers = match.groups()
            rows[(method.lower(), path)] = set(re.findall(r"\b([1-5]\d\d)\b", answers))
    documented = {(method, path): set(op["responses"])
                  for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()}
    assert rows == documented


@pytest.fixture
def clerk(services, users, process):
    return _token(services, "intake_clerk")


def test_401_and_429_are_json_with_their_headers(client, services, users):
    limit = services.settings.api_refusals_per_minute
    answers = [client.get("/api/v1/processes", headers={
        "Authorization": f"Bearer jf_{n:08x}_" + "q" * 43}) for n in range(limit + 1)]
    first, last = answers[0], answers[-1]
    assert first.status_code == 401 and first.headers["WWW-Authenticate"].startswith("Bearer")
    assert CHINESE.search(conforms(first, "/api/v1/processes")["message"])
    assert last.status_code == 429 and last.headers["Retry-After"] == "60"
    assert conforms(last, "/api/v1/processes")["error"] == "too_many_requests"


def test_403_names_the_rule(client, services, clerk, users):
    code = _create(client, clerk)
    triage = _token(services, "triage_officer")
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    path = f"/api/v1/tasks/{task_id}/complete"
    refused = client.post(path, json={"department": "ZJ", "triage_note": "x"}, headers=clerk)
    assert refused.status_code == 403 and conforms(refused, path, "post")["rule"]


def test_405_for_a_method_a_path_does_not_have(client, clerk):
    response = client.delete("/api/v1/cases", headers=clerk)
    assert response.status_code == 405
    assert response.get_json() == {"error": "method_not_allowed"}


def test_409_concurrent_update_on_intake_completion_and_deploy(client, services, clerk,
                                                               monkeypatch):
    code = _create(client, clerk)
    triage = _token(services, "triage_officer")
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]

    def lost(*args, **kwargs):
        raise ConcurrentUpdate("a concurrent change won")

    monkeypatch.setattr(task_service, "complete_open_task", lost)
    monkeypatch.setattr(intake_api, "submit_intake", lost)
    monkeypatch.setattr(catalogue, "deploy", lost)
    path = f"/api/v1/tasks/{task_id}/complete"
    completed = client.post(path, json={"department": "ZJ", "triage_note": "x"}, headers=triage)
    intake = client.post("/api/v1/cases", json=BODY, headers={**clerk, "Idempotency-Key": "c1"})
    owner = _token(services, "process_owner")
    files = {"files": [(Path(__file__).parent / "fixtures" / "general_dispute.bpmn").open("rb")]}
    deployed = client.post("/api/v1/processes", data=files, headers=owner,
                           content_type="multipart/form-data")
    for response, at, method in ((completed, path, "post"), (intake, "/api/v1/cases", "post"),
                                 (deployed, "/api/v1/processes", "post")):
        assert response.status_code == 409, at
        body = conforms(response, at, method)
        assert body["error"] == "concurrent_update" and CHINESE.search(body["message"])


def test_413_for_a_body_over_the_upload_limit(services, settings, clerk):
    small = create_app(replace(settings, max_upload_bytes=2048), services=services)
    response = small.test_client().post("/api/v1/cases", json={**BODY, "description": "长" * 4000},
                                        headers=clerk)
    assert response.status_code == 413
    assert conforms(response, "/api/v1/cases", "post")["error"] == "request_entity_too_large"


def test_500_is_json_with_a_request_id_and_no_detail(client, clerk, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("SELECT secret FROM party")

    monkeypatch.setattr(case_views, "case_brief", broken)
    response = client.get("/api/v1/cases/JF-2025-000001", headers=clerk)
    body = conforms(response, "/api/v1/cases/JF-2025-000001")
    assert response.status_code == 500 and body == {"error": "internal_error",
                                                    "request_id": response.headers["X-Request-Id"]}


def test_409_process_incident_at_intake_conforms(client, clerk, monkeypatch):
    from engine.errors import EngineStepFailed

    def failing(*args, **kwargs):
        raise EngineStepFailed("an operation failed", "route")

    monkeypatch.setattr(register, "after_step", failing)
    response = client.post("/api/v1/cases", json=BODY, headers=clerk)
    assert response.status_code == 409
    body = conforms(response, "/api/v1/cases", "post")
    assert body["error"] == "process_incident" and body["case_no"] is None
