"""Races through the JSON API on PostgreSQL, each request on its own connection: 50 completions of
one task give one success and only 409; 50 intakes with distinct Idempotency-Keys give 50 cases."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.conftest import PG
from tests.web.conftest import HERE, ROLE_DEPARTMENTS, TEST_DEPARTMENTS, Users
from tests.web.test_api import BODY
from web import create_app
from workflows.access import tokens
from workflows.audit.log import verify_chains
from workflows.core.actors import SYSTEM
from workflows.models import Case, Department, Submission
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]
THREADS = 50


@pytest.fixture
def api(committed_services, monkeypatch):
    """The app on committed services with the reference data, users, the test process and tokens."""
    services = committed_services
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        for code, name, tier in TEST_DEPARTMENTS:
            uow.session.add(Department(code=code, name=name, tier=tier, responsibilities=[]))
        uow.commit()
    users = Users(services)
    for role in ("intake_clerk", "triage_officer"):
        users.add(role, role, ROLE_DEPARTMENTS[role])
    files = {"general_dispute.bpmn": (HERE / "fixtures" / "general_dispute.bpmn").read_bytes()}
    deploy_bundle(services.new_uow(), SYSTEM, files)
    app = create_app(services.settings, services=services)

    def token(username: str) -> dict:
        issued = tokens.issue_token(services.new_uow(), SYSTEM, username=username,
                                    channel="hotline_12345")
        return {"Authorization": f"Bearer {issued.token}"}

    return app, token("intake_clerk"), token("triage_officer")


def _together(app, requests: list) -> list:
    """Send the requests from one thread each, released together; the responses' (status, json)."""
    barrier = threading.Barrier(len(requests))
    results: list = [None] * len(requests)

    def run(index: int, send) -> None:
        client = app.test_client()
        barrier.wait()
        response = send(client)
        results[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=run, args=(i, send)) for i, send in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_fifty_completions_of_one_task_give_one_success_and_409_otherwise(api, committed_services):
    app, clerk, triage = api
    client = app.test_client()
    code = client.post("/api/v1/cases", json=BODY, headers=clerk).get_json()["case_no"]
    task_id = client.get(f"/api/v1/cases/{code}/tasks", headers=triage).get_json()[
        "tasks"][0]["task_id"]
    path = f"/api/v1/tasks/{task_id}/complete"

    def complete(n: int):
        return lambda c: c.post(path, json={"department": "ZJ", "triage_note": f"第{n}次"},
                                headers=triage)

    results = _together(app, [complete(n) for n in range(THREADS)])
    assert Counter(status for status, _ in results) == {200: 1, 409: THREADS - 1}
    for status, body in results:
        if status == 409:
            assert body["error"] in ("task_no_longer_available", "concurrent_update")
            assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    with committed_services.new_uow() as uow:
        completions = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "task_completed"))
        assert completions == 1
        assert verify_chains(uow.session, committed_services.keyring).ok


def test_fifty_intakes_with_distinct_keys_give_fifty_cases(api, committed_services):
    app, clerk, _ = api

    def intake(n: int):
        body = {**BODY, "channel_ref": f"12345-race-{n:03d}",
                "parties": [{"role": "applicant", "name": f"申请人{n}",
                             "phone": f"139{n:08d}"},
                            {"role": "respondent", "name": "恒安物业服务有限公司"}]}
        return lambda c: c.post("/api/v1/cases", json=body,
                                headers={**clerk, "Idempotency-Key": f"race-{n}"})

    results = _together(app, [intake(n) for n in range(THREADS)])
    assert Counter(status for status, _ in results) == {201: THREADS}
    codes = {body["case_no"] for _, body in results}
    assert len(codes) == THREADS and all(body["linked_as"] == "new" for _, body in results)
    with committed_services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == THREADS
        assert uow.session.scalar(select(func.count()).select_from(Submission)) == THREADS
        assert set(uow.session.scalars(select(Case.case_no))) == codes
        assert verify_chains(uow.session, committed_services.keyring).ok
