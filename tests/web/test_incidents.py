"""An engine step failing while a user completes a task (or a message
is delivered) is rolled back and becomes an incident: instance 'incident' with last_error, an
audited incident_raised naming the element, a notice to the supervisors, and a clear 409 page or
JSON for the user instead of a 500."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent, InstanceRow, OutboxMessage
from tests.web.conftest import HERE, new_case, post
from tests.web.test_api import _token, conforms
from tests.web.test_task_pages import kept_rows
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework import events as case_events
from workflows.casework import incidents
from workflows.casework import tasks as task_service
from workflows.core.actors import SYSTEM
from workflows.core.errors import ProcessIncident
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import OpenTask
from workflows.processes.deploy import deploy_bundle

GATEWAY = ('<bpmn:sequenceFlow id="f_triage" name="派单" sourceRef="triage" targetRef="gw_x"/>'
           '<bpmn:exclusiveGateway id="gw_x" default="f_x2"/>'
           '<bpmn:sequenceFlow id="f_x1" sourceRef="gw_x" targetRef="handle">'
           '<bpmn:conditionExpression>not_set_anywhere &gt; 3</bpmn:conditionExpression>'
           '</bpmn:sequenceFlow>'
           '<bpmn:sequenceFlow id="f_x2" sourceRef="gw_x" targetRef="handle"/>')


@pytest.fixture
def bad_process(services, reference):
    """The web test process with a gateway whose condition names data nobody sets."""
    xml = (HERE / "fixtures" / "general_dispute.bpmn").read_text()
    xml = xml.replace('<bpmn:sequenceFlow id="f_triage" name="派单" sourceRef="triage" '
                      'targetRef="handle"/>', GATEWAY)
    xml = xml.replace("<bpmn:flowNodeRef>triage</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>triage</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>gw_x</bpmn:flowNodeRef>")
    rating = "<bpmn:conditionExpression>satisfaction == 'dissatisfied'</bpmn:conditionExpression>"
    xml = xml.replace(rating, "<bpmn:conditionExpression>satisfaction == 'dissatisfied' "
                              "and rating_rule &gt; 1</bpmn:conditionExpression>")
    return deploy_bundle(services.new_uow(), SYSTEM, {"general_dispute.bpmn": xml.encode()})


@pytest.fixture
def stuck(services, users, bad_process):
    """(case code, triage task id) of a case on the faulty process."""
    code = new_case(services, users)
    return code, _task(services, code, "triage")


def _task(services, code: str, bpmn_id: str) -> str:
    with services.new_uow() as uow:
        inst = uow.load_instance(find_case(uow.session, code).workflow_instance_id)
        return next(t.id for t in inst.ready_tasks() if t.bpmn_id == bpmn_id)


def _instance(services, code: str) -> InstanceRow:
    with services.session_factory() as session:
        row = session.get(InstanceRow, find_case(session, code).workflow_instance_id)
        session.expunge(row)
        return row


def _count(services, model, *where) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _incidents(services) -> list[dict]:
    with services.session_factory() as session:
        return [json.loads(p) for p in session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "incident_raised").order_by(AuditEvent.id))]


def test_failing_step_gives_a_clear_page_and_raises_an_incident(as_role, services, stuck):
    code, task_id = stuck
    client = as_role("triage_officer")
    response = post(client, f"/cases/{code}/tasks/{task_id}",
                    {"department": "ZJ", "triage_note": "按物业纠纷派住建"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "流程执行出错，已通知督办员" in page and "gw_x" not in page
    assert "流程在环节 排他网关 执行时出错" in page        # the unnamed step by its kind
    rows = kept_rows(page)                                # what was typed is not lost, in words
    assert "研判意见 按物业纠纷派住建" in rows and "承办部门 区住建局" in rows
    assert "department" not in rows and "ZJ" not in rows
    row = _instance(services, code)
    assert row.status == "incident" and "gw_x" in row.last_error
    assert "not_set_anywhere" in row.last_error
    [raised] = _incidents(services)
    assert raised["element_id"] == "gw_x" and raised["task_id"] == task_id
    notices = _count(services, OutboxMessage, OutboxMessage.template == "step_failed",
                     OutboxMessage.recipient_id == "supervisor")
    assert notices == 1
    # the step was rolled back: the task is still open, nothing was recorded as completed
    assert _count(services, OpenTask, OpenTask.task_id == task_id) == 1
    assert _count(services, AuditEvent, AuditEvent.action == "task_completed") == 0


def test_retrying_the_same_failure_does_not_raise_it_twice(as_role, services, stuck):
    code, task_id = stuck
    client = as_role("triage_officer")
    for _ in range(2):
        response = post(client, f"/cases/{code}/tasks/{task_id}",
                        {"department": "ZJ", "triage_note": "再试一次"})
        assert response.status_code == 409
    assert len(_incidents(services)) == 1
    assert _count(services, OutboxMessage, OutboxMessage.template == "step_failed") == 1


def test_api_answers_409_process_incident(client, services, stuck):
    code, task_id = stuck
    path = f"/api/v1/tasks/{task_id}/complete"
    response = client.post(path, json={"department": "SJ", "triage_note": "ok"},
                           headers=_token(services, "triage_officer"))
    assert response.status_code == 409
    body = conforms(response, path, "post")
    assert body["error"] == "process_incident" and body["element_id"] == "gw_x"
    assert body["message"] == "流程执行出错，已通知督办员" and body["case_no"] == code
    assert _instance(services, code).status == "incident"


def test_supervisors_list_and_retry_the_incident(services, users, stuck):
    code, task_id = stuck
    with pytest.raises(ProcessIncident):
        task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                                   case_no=code, task_id=task_id,
                                   raw={"department": "ZJ", "triage_note": "ok"})
    boss = users.actor("supervisor")
    with services.session_factory() as session:
        [listed] = incidents.incidents(session, boss)
    assert listed["case_no"] == code and "gw_x" in listed["error"]
    incidents.retry_incident(services, boss, listed["instance_id"])
    assert _instance(services, code).status == "running"


def test_a_failing_message_step_is_an_incident_too(services, users, bad_process):
    actor = users.actor
    request = IntakeRequest(  # start data gets the case past the faulty gateway
        channel="hotline_12345", category="property", description="电梯停运两周。",
        summary="电梯停运", parties=[PartyInput(name="周海燕", phone="13912345678")],
        extra={"not_set_anywhere": 5})
    code = submit_intake(services.new_uow(), actor("intake_clerk"), request).case_no
    task_service.complete_task(services.new_uow(), actor("triage_officer"), case_no=code,
                               task_id=_task(services, code, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    task_service.complete_task(services.new_uow(), actor("dept_handler"), case_no=code,
                               task_id=_task(services, code, "handle"),
                               raw={"result_summary": "已修复"})
    with pytest.raises(ProcessIncident) as caught:
        case_events.record_rating(services.new_uow(), actor("intake_clerk"), case_no=code,
                                  rating="dissatisfied")
    assert caught.value.element_id == "gw_rating"
    [raised] = _incidents(services)
    assert raised["element_id"] == "gw_rating" and raised["message"] == "rating"
    assert _instance(services, code).status == "incident"


@pytest.fixture
def bad_start(services, reference):
    """A process whose first gateway (right after the start) names data nobody sets."""
    xml = (HERE / "fixtures" / "general_dispute.bpmn").read_text()
    xml = xml.replace('<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="triage"/>',
                      '<bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="gw_s"/>'
                      '<bpmn:exclusiveGateway id="gw_s" default="f_s2"/>'
                      '<bpmn:sequenceFlow id="f_s1" sourceRef="gw_s" targetRef="triage">'
                      '<bpmn:conditionExpression>no_such_name &gt; 3</bpmn:conditionExpression>'
                      '</bpmn:sequenceFlow>'
                      '<bpmn:sequenceFlow id="f_s2" sourceRef="gw_s" targetRef="triage"/>')
    xml = xml.replace("<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>"
                      "<bpmn:flowNodeRef>gw_s</bpmn:flowNodeRef>")
    return deploy_bundle(services.new_uow(), SYSTEM, {"general_dispute.bpmn": xml.encode()})


def test_intake_on_a_failing_start_is_a_system_incident(client, services, users, bad_start):
    from tests.web.test_api import BODY
    from workflows.models import Case

    response = client.post("/api/v1/cases", json=BODY, headers=_token(services, "intake_clerk"))
    assert response.status_code == 409
    body = conforms(response, "/api/v1/cases", "post")
    assert body["error"] == "process_incident" and body["element_id"] == "gw_s"
    assert _count(services, Case) == 0                           # nothing was saved
    [raised] = _incidents(services)
    assert raised["element_id"] == "gw_s" and raised["source"] == "intake"
    with services.session_factory() as session:
        event = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "incident_raised")).one()
        assert event.case_id is None                               # the system chain
        notices = session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "intake_failed")).all()
    assert [(n.recipient_type, n.recipient_id) for n in notices] == [("role", "supervisor")]
