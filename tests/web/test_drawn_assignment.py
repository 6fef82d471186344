"""A process drawn in Camunda Modeler runs as drawn: 校园周边安全整治 (lanes named after agencies,
candidateGroups by unit kind alias, unit name and kind code, a parallel dispatch to three units,
a 24-hour non-interrupting reminder, a review loop) is started through the API with
``process_id``; each task is completed by a user of the right unit and refused (403) to the
others; the reminder fires in the scheduler's sweep; the case closes and replays verified."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.cli_support import jiefen
from web import create_app
from workflows.access import tokens
from workflows.cases.lookup import find_case
from workflows.core.actors import SYSTEM
from workflows.people import admin
from workflows.people.departments import seed_reference_data
from workflows.processes.deploy import deploy_bundle
from workflows.reports.data import quarterly_evaluation
from workflows.scheduler import timers

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "bpmn" / "camunda"
# username -> (role, unit code)
PEOPLE = {"clerk": ("intake_clerk", "ZZ"), "zz": ("dept_handler", "ZZ"),
          "ga": ("dept_handler", "GA"), "jy": ("dept_handler", "JY"),
          "cg": ("dept_handler", "CG"), "triage": ("triage_officer", "ZZ")}
BODY = {"category": "public_order", "description": "学校门口放学时段摊贩占道、车辆乱停，存在安全隐患。",
        "summary": "校门口秩序混乱", "process_id": "campus_safety",
        "parties": [{"role": "applicant", "name": "马德顺", "phone": "13912341234"}]}


@pytest.fixture
def world(committed_services):
    services = committed_services
    with services.new_uow() as uow:
        seed_reference_data(uow.session)
        uow.commit()
    headers = {}
    for username, (role, unit) in PEOPLE.items():
        admin.create_user(services.new_uow(), SYSTEM, username=username,
                          password="test-password-1", roles=[role], department_code=unit)
        issued = tokens.issue_token(services.new_uow(), SYSTEM, username=username,
                                    channel="portal")
        headers[username] = {"Authorization": f"Bearer {issued.token}"}
    deploy_bundle(services.new_uow(), SYSTEM, {
        "campus_safety.bpmn": (FIXTURE / "campus_safety.bpmn").read_bytes()})
    client = create_app(services.settings, services=services).test_client()
    return services, client, headers


def _open(client, headers, code: str) -> dict[str, dict]:
    response = client.get(f"/api/v1/cases/{code}/tasks", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {t["bpmn_id"]: t for t in response.get_json()["tasks"]}


def _complete(client, headers, task_id: str, **form) -> int:
    return client.post(f"/api/v1/tasks/{task_id}/complete", json=form, headers=headers).status_code


def test_a_camunda_joint_process_runs_as_drawn(world, clock, settings, tmp_path):
    services, client, h = world
    created = client.post("/api/v1/cases", json=BODY, headers=h["clerk"])
    assert created.status_code == 201, created.get_data(as_text=True)
    code = created.get_json()["case_no"]

    # 研判: the 综治中心's handler; a triage officer of the centre and the police may not
    assess = _open(client, h["zz"], code)["Task_assess"]
    assert assess["can_complete"] is True
    assert _complete(client, h["ga"], assess["task_id"], plan="x") == 403
    assert _complete(client, h["triage"], assess["task_id"], plan="x") == 403
    assert _complete(client, h["zz"], assess["task_id"],
                     plan="公安加强巡逻，教育督促学校，城管清理占道") == 200

    # the parallel dispatch: each unit sees the case and its own task, and only its own
    tasks = _open(client, h["zz"], code)
    assert {"Task_patrol", "Task_school", "Task_vendors"} <= set(tasks)
    for unit in ("ga", "jy", "cg"):
        assert client.get(f"/api/v1/cases/{code}", headers=h[unit]).status_code == 200
    mine = {unit: {b for b, t in _open(client, h[unit], code).items() if t["can_complete"]}
            for unit in ("ga", "jy", "cg")}
    assert mine == {"ga": {"Task_patrol"}, "jy": {"Task_school"}, "cg": {"Task_vendors"}}
    assert _complete(client, h["cg"], tasks["Task_patrol"]["task_id"], patrol_result="x") == 403
    assert _complete(client, h["ga"], tasks["Task_patrol"]["task_id"],
                     patrol_result="放学时段民警驻守") == 200
    assert _complete(client, h["cg"], tasks["Task_vendors"]["task_id"],
                     vendor_result="清理摊点 6 处") == 200

    # 24 hours on, the scheduler's sweep fires the reminder; the school task stays open
    clock.advance(hours=24, minutes=1)
    swept = timers.sweep(services, clock.now())
    assert swept.fired == 1
    with services.session_factory() as session:
        case = find_case(session, code)
        fired = session.scalars(select(AuditEvent).where(
            AuditEvent.chain_key == f"case:{case.id}", AuditEvent.action == "timer_fired")).all()
    assert len(fired) == 1 and "24小时提醒" in fired[0].payload
    school = _open(client, h["jy"], code)["Task_school"]
    assert _complete(client, h["ga"], school["task_id"], school_result="x") == 403
    assert _complete(client, h["jy"], school["task_id"], school_result="学校增设护学岗",
                     checked_on=(clock.now() + timedelta(hours=8)).date().isoformat()) == 200

    # the review loop runs twice: 城管 rectifies, the centre reviews again
    for _round in range(2):
        review = _open(client, h["zz"], code)["Task_review"]
        assert _complete(client, h["jy"], review["task_id"], review_decision="redo") == 403
        assert _complete(client, h["zz"], review["task_id"], review_decision="redo",
                         review_note="仍有摊贩回流") == 200
        rectify = _open(client, h["cg"], code)["Task_rectify"]
        assert _complete(client, h["ga"], rectify["task_id"], rectify_result="x") == 403
        assert _complete(client, h["cg"], rectify["task_id"], rectify_result="增派队员值守") == 200
    review = _open(client, h["zz"], code)["Task_review"]
    assert _complete(client, h["zz"], review["task_id"], review_decision="pass") == 200

    status = client.get(f"/api/v1/cases/{code}", headers=h["zz"]).get_json()
    assert status["status"] == "closed"
    assert _open(client, h["zz"], code) == {}

    # the quarter's evaluation counts it, overall and under its category
    with services.session_factory() as session:
        _columns, rows, _extra = quarterly_evaluation(
            session, start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2025, 4, 1, tzinfo=UTC),
            last_day=date(2025, 3, 31))
    closed = {(row["scope"], row["name"]): row["closed"] for row in rows}
    assert closed[("全区", "合计")] == 1 and closed[("类型", "public_order")] == 1

    env = {"JIEFEN_INSTANCE_PATH": str(tmp_path / "inst"), "JIEFEN_KEYS_FILE": str(settings.keys_path),
           "DATABASE_URL": services.settings.database}
    replayed = jiefen(env, "replay", code, "--verify")
    assert replayed.exit_code == 0, replayed.stdout + replayed.stderr
