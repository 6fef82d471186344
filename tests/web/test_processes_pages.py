"""Process owners' pages and API: catalogue, editor JSON calls, diff, migration, uploads, denials."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, ProcessVersion
from tests.process_fixtures import CAMUNDA, PROCESSES, complete_step, deploy_version, start_case
from tests.web.conftest import csrf_token
from workflows.access import tokens
from workflows.core.actors import SYSTEM


@pytest.fixture
def owner(as_role):
    return as_role("process_owner")


def _json_post(client, path: str, body: dict):
    token = csrf_token(client, "/processes/")
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": token})


def _files(name: str) -> dict[str, str]:
    return {"mediation.bpmn": (PROCESSES / f"{name}.bpmn").read_text(encoding="utf-8")}


def _versions(services) -> list[tuple[str, int, str]]:
    with services.session_factory() as session:
        return [(v.process_id, v.version, v.status) for v in
                session.scalars(select(ProcessVersion).order_by(ProcessVersion.id))]


def test_catalogue_shows_versions_counts_and_drafts(owner, services):
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-W1")
    deploy_version(services, "mediation_v2", note="协议书")
    page = owner.get("/processes/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "人民调解" in html and 'data-testid="version-mediation-2"' in html
    assert "协议书" in html and "对比 v1" in html
    row_v1 = html.split('data-testid="version-mediation-1"')[1].split("</tr>")[0]
    assert '<td class="text-end" data-testid="running">1</td>' in row_v1


def test_catalogue_names_who_deployed_a_version(owner, services):
    """The deployer by name (as the case pages name people), not by login name."""
    deployed = _json_post(owner, "/processes/editor/deploy",
                          {"files": _files("mediation_v1"), "note": "上线"})
    assert deployed.status_code == 201
    html = owner.get("/processes/").get_data(as_text=True)
    row = html.split('data-testid="version-mediation-1"')[1].split("</tr>")[0]
    assert "<td>process_owner用户</td>" in row and "<td>process_owner</td>" not in row


@pytest.mark.parametrize("role", ["mediator", "intake_clerk", "auditor", "admin", "supervisor"])
def test_other_roles_get_403_and_the_denial_is_audited(as_role, services, role):
    client = as_role(role)
    assert client.get("/processes/").status_code == 403
    assert client.get("/processes/editor").status_code == 403
    with services.session_factory() as session:
        rules = session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "access_denied")).all()
    assert any("manage_processes.role" in r for r in rules)


def test_anonymous_is_sent_to_sign_in(client, users):
    response = client.get("/processes/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_editor_page_and_files_of_a_version(owner, services):
    deploy_version(services, "mediation_v1")
    page = owner.get("/processes/editor?process=mediation&version=1")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "js/process-editor.js" in html and "jiefen-modeler/modeler.bundle.js" in html
    assert 'data-files-url="/processes/editor/files.json?process=mediation&amp;version=1"' in html
    files = owner.get("/processes/editor/files.json?process=mediation&version=1").get_json()
    assert list(files["files"]) == ["mediation.bpmn"] and files["base_version_id"] is not None
    blank = owner.get("/processes/editor/files.json").get_json()
    assert list(blank["files"]) == ["new_process.bpmn"]


def test_validate_returns_problems_at_their_elements(owner):
    bad = _files("mediation_v1")
    bad["mediation.bpmn"] = bad["mediation.bpmn"].replace("P15D", "P2H")
    report = _json_post(owner, "/processes/editor/validate", {"files": bad}).get_json()
    assert report["ok"] is False
    assert [(e["file"], e["element_id"]) for e in report["errors"]] == [("mediation.bpmn",
                                                                         "deadline_15d")]
    good = _json_post(owner, "/processes/editor/validate", {"files": _files("mediation_v2")})
    assert good.get_json()["ok"] is True and good.get_json()["process_ids"] == ["mediation"]


def test_json_calls_need_the_csrf_token(owner):
    response = owner.post("/processes/editor/validate", data=json.dumps({"files": {}}),
                          content_type="application/json")
    assert response.status_code == 400


def test_dry_run_over_http(owner, services):
    body = {"files": _files("mediation_v1"), "data": {"case_no": "DRY-1"},
            "actions": [{"complete": "register", "data": {"category": "labour"}},
                        {"advance": "next_timer"}]}
    answer = _json_post(owner, "/processes/editor/dry-run", body).get_json()
    assert [t["element_id"] for t in answer["result"]["fired_timers"]] == ["deadline_15d"]
    assert answer["states"]["current"] == ["refer_arbitration"]
    assert _versions(services) == []


def test_save_draft_then_deploy_it(owner, services):
    saved = _json_post(owner, "/processes/editor/draft",
                       {"files": _files("mediation_v1"), "title": "首版"}).get_json()["draft"]
    assert saved["process_id"] == "mediation"
    opened = owner.get(f"/processes/editor/files.json?draft={saved['id']}").get_json()
    assert opened["draft_id"] == saved["id"] and opened["title"] == "首版"
    deployed = _json_post(owner, "/processes/editor/deploy",
                          {"files": opened["files"], "note": "上线", "draft_id": saved["id"]})
    assert deployed.status_code == 201
    assert deployed.get_json()["versions"][0]["version"] == 1
    assert _versions(services) == [("mediation", 1, "active")]
    assert owner.get(f"/processes/editor/files.json?draft={saved['id']}").status_code == 404


def test_deploy_refused_is_422_with_problems_and_stores_nothing(owner, services):
    bad = _files("mediation_v1")
    bad["mediation.bpmn"] = bad["mediation.bpmn"].replace(
        '<bpmn:userTask id="refer_arbitration" name="转仲裁"/>',
        '<bpmn:scriptTask id="refer_arbitration"><bpmn:script>x=1</bpmn:script></bpmn:scriptTask>')
    answer = _json_post(owner, "/processes/editor/deploy", {"files": bad})
    assert answer.status_code == 422
    assert answer.get_json()["problems"][0]["element_id"] == "refer_arbitration"
    assert _versions(services) == []


def test_upload_to_a_draft_and_import_rewrites_camunda_decisions(owner):
    token = csrf_token(owner, "/processes/")
    data = {"csrf_token": token, "files": [
        (io.BytesIO((CAMUNDA / "fee_camunda.bpmn").read_bytes()), "fee_camunda.bpmn"),
        (io.BytesIO((CAMUNDA / "fee_level.dmn").read_bytes()), "fee_level.dmn")]}
    uploaded = owner.post("/processes/upload", data=data, content_type="multipart/form-data")
    assert uploaded.status_code == 302 and "/processes/editor?draft=" in uploaded.headers["Location"]
    data["files"] = [(io.BytesIO((CAMUNDA / "fee_camunda.bpmn").read_bytes()), "fee_camunda.bpmn")]
    imported = owner.post("/processes/editor/import", data=data,
                          content_type="multipart/form-data", headers={"X-CSRFToken": token})
    body = imported.get_json()
    assert "spiffworkflow:calledDecisionId" in body["files"]["fee_camunda.bpmn"]
    assert body["notes"][0]["element_id"] == "Task_assess"


def test_diff_page_marks_elements(owner, services):
    deploy_version(services, "mediation_v1")
    deploy_version(services, "mediation_v2")
    html = owner.get("/processes/mediation/diff?from=1&to=2").get_data(as_text=True)
    assert 'data-added="f_agreement record_agreement"' in html
    assert 'data-removed=""' in html
    assert 'data-changed="end_done f_mediate mediate"' in html
    assert 'data-element-id="record_agreement" data-change="added"' in html
    download = owner.get("/processes/mediation/v1/files/mediation.bpmn?download=1")
    assert download.headers["Content-Disposition"] == 'attachment; filename="mediation-v1.bpmn"'
    assert b"deadline_15d" in download.data


def test_migration_preview_and_run(owner, services):
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-M1")
    complete_step(services, "JF-M1", "register", {"category": "labour"})
    deploy_version(services, "mediation_v2")
    preview = owner.get("/processes/mediation/migrate?to=2").get_data(as_text=True)
    assert 'data-testid="case-JF-M1"' in preview and "安全" in preview
    token = csrf_token(owner, "/processes/")
    missing_reason = owner.post("/processes/mediation/migrate?to=2",
                                data={"csrf_token": token, "case_no": "JF-M1"})
    assert missing_reason.status_code == 422
    done = owner.post("/processes/mediation/migrate?to=2",
                      data={"csrf_token": token, "case_no": "JF-M1", "reason": "新增步骤"})
    assert done.status_code == 200
    assert "已迁移 v1 → v2" in done.get_data(as_text=True)


def test_approve_and_retire_over_http(as_role, services, settings, users):
    from dataclasses import replace

    deploy_version(services, "mediation_v1")
    services.settings = replace(settings, require_deploy_approval=True)
    [pending] = deploy_version(services, "mediation_v2", actor=users.actor("process_owner"))
    users.add("owner_b", "process_owner", None)
    client = as_role("owner_b")
    token = csrf_token(client, "/processes/")
    approved = client.post(f"/processes/versions/{pending.id}/approve",
                           data={"csrf_token": token})
    assert approved.status_code == 302
    retired = client.post(f"/processes/versions/{pending.id}/retire",
                          data={"csrf_token": token, "reason": "回退"})
    assert retired.status_code == 302
    assert _versions(services) == [("mediation", 1, "active"), ("mediation", 2, "retired")]


# -- API ------------------------------------------------------------------------------------------
def _bearer(services, users, role: str) -> dict:
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=role, name=f"{role} script")
    return {"Authorization": f"Bearer {issued.token}"}


def test_api_deploy_and_list(client, services, users):
    headers = _bearer(services, users, "process_owner")
    files = {"files": [(io.BytesIO((PROCESSES / "mediation_v1.bpmn").read_bytes()),
                        "mediation.bpmn")], "note": "API"}
    created = client.post("/api/v1/processes", data=files, headers=headers,
                          content_type="multipart/form-data")
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["versions"][0]["version"] == 1
    listed = client.get("/api/v1/processes", headers=headers).get_json()
    [entry] = listed["processes"]
    assert entry["process_id"] == "mediation" and entry["live_version"] == 1
    assert entry["versions"][0]["note"] == "API"


def test_api_refused_bundle_is_422_with_element_problems_and_nothing_stored(client, services,
                                                                           users):
    headers = _bearer(services, users, "process_owner")
    bad = (PROCESSES / "mediation_v1.bpmn").read_bytes().replace(b"P15D", b"P2H")
    answer = client.post("/api/v1/processes", headers=headers, content_type="multipart/form-data",
                         data={"files": [(io.BytesIO(bad), "mediation.bpmn")]})
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["error"] == "invalid_bundle"
    assert body["problems"] == [{"file": "mediation.bpmn", "element_id": "deadline_15d",
                                 "message": body["problems"][0]["message"], "severity": "error"}]
    assert _versions(services) == []


def test_api_needs_a_process_owner_token(client, services, users):
    headers = _bearer(services, users, "mediator")
    assert client.get("/api/v1/processes", headers=headers).status_code == 403
    assert client.get("/api/v1/processes").status_code == 401


def test_catalogue_in_english(owner, services):
    deploy_version(services, "mediation_v1")
    token = csrf_token(owner, "/processes/")
    owner.post("/i18n/locale/en", data={"csrf_token": token, "next": "/processes/"})
    html = owner.get("/processes/").get_data(as_text=True)
    assert "Live version" in html and "Upload as draft" in html and "生效版本" not in html
    assert "Active" in html and "已启用" not in html                  # version status


def test_api_oversized_upload_is_413_and_nothing_stored(client, services, users):
    headers = _bearer(services, users, "process_owner")
    big = b"<definitions>" + b" " * (11 * 1024 * 1024) + b"</definitions>"
    answer = client.post("/api/v1/processes", headers=headers, content_type="multipart/form-data",
                         data={"files": [(io.BytesIO(big), "huge.bpmn")]})
    assert answer.status_code == 413
    assert _versions(services) == []
