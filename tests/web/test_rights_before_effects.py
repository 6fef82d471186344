"""The caller's right comes before any effect: a refused completion of an overdue task fires no
timer, changes nothing and is audited as access_denied; an allowed one lets the deadline win,
recorded as the scheduler's."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, InstanceRow
from tests.web.conftest import post
from workflows.access import tokens
from workflows.cases.lookup import find_case
from workflows.casework import tasks as task_service
from workflows.core.actors import SYSTEM
from workflows.models import OpenTask


@pytest.fixture
def overdue(services, users, case_no, clock):
    """The case waits on 'handle' (ZJ), whose 24-hour deadline passed an hour ago."""
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        triage = uow.session.scalars(select(OpenTask.task_id).where(
            OpenTask.case_id == case.id, OpenTask.bpmn_id == "triage")).one()
    task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                               case_no=case_no, task_id=triage,
                               raw={"department": "ZJ", "triage_note": "住建局牵头"})
    clock.advance(timedelta(hours=25))
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        return uow.session.scalars(select(OpenTask.task_id).where(
            OpenTask.case_id == case.id, OpenTask.bpmn_id == "handle")).one()


def _state(services, case_no):
    """The instance row's version and state, the case's events and its open tasks."""
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        row = uow.session.get(InstanceRow, case.workflow_instance_id)
        events = [(e.action, e.actor_type, e.actor_role) for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}",
                                     AuditEvent.action != "access_denied")
            .order_by(AuditEvent.seq))]
        tasks = sorted(uow.session.scalars(select(OpenTask.bpmn_id).where(
            OpenTask.case_id == case.id)))
        return row.version_id, row.state, events, tasks


def _denials(services, users, username: str) -> list[str | None]:
    """The tasks of the access_denied events of a user."""
    with services.new_uow() as uow:
        return [json.loads(e.payload).get("task_id") for e in uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "access_denied",
                                     AuditEvent.actor_id == users.actor(username).id))]


def test_an_auditor_posting_an_overdue_task_gets_403_and_fires_nothing(as_role, services, users,
                                                                       case_no, overdue):
    before = _state(services, case_no)
    response = post(as_role("auditor"), f"/cases/{case_no}/tasks/{overdue}",
                    {"result_summary": "审计员不能办理"})
    assert response.status_code == 403
    assert _state(services, case_no) == before           # no timer fired, nothing written
    assert _denials(services, users, "auditor") == [overdue]


def test_an_auditor_token_completing_an_overdue_task_gets_403_and_fires_nothing(
        client, services, users, case_no, overdue):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username="auditor")
    before = _state(services, case_no)
    response = client.post(f"/api/v1/tasks/{overdue}/complete",
                           json={"result_summary": "审计员不能办理"},
                           headers={"Authorization": f"Bearer {issued.token}"})
    assert response.status_code == 403 and response.get_json()["error"] == "forbidden"
    assert _state(services, case_no) == before
    assert _denials(services, users, "auditor") == [overdue]


def test_the_handler_finds_the_deadline_won_and_the_scheduler_fired_it(as_role, services, users,
                                                                       case_no, overdue):
    _, _, events_before, _ = _state(services, case_no)
    response = post(as_role("dept_handler"), f"/cases/{case_no}/tasks/{overdue}",
                    {"result_summary": "已修复电梯"})
    assert response.status_code == 409
    _, _, events, tasks = _state(services, case_no)
    new = events[len(events_before):]
    assert ("timer_fired", "scheduler", None) in new
    assert "task_completed" not in [action for action, _, _ in new]
    assert all(kind == "scheduler" for action, kind, _ in new if action != "access_denied")
    assert "handle" not in tasks
    assert _denials(services, users, "dept_handler") == []
