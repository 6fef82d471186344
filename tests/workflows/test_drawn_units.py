"""Tasks drawn for a unit taken from task data (a multi-instance over units, Zeebe's
``assignmentDefinition``), for named candidate users (``flowable:candidateUsers``) and for an
assignee from task data (``camunda:assignee="${reviewer}"``): each goes to those and nobody else."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.bpmn_parser import read_assignment
from engine.xmlsafe import safe_fromstring
from tests.conftest import FIXTURES
from tests.factories import deploy_files, make_user, seed
from workflows.access.policy import Denied
from workflows.cases.inbox import InboxQuery, inbox
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework.tasks import complete_task
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import Department, OpenTask

FILE = FIXTURES / "bpmn" / "camunda" / "unit_check.bpmn"


def test_the_three_spellings_are_read():
    root = safe_fromstring(FILE.read_bytes(), "unit_check.bpmn")
    found = {task.get("id"): read_assignment(task)
             for task in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")}
    assert found == {"Task_plan": {"candidateGroups": "综治中心"},
                     "Task_check": {"candidateGroups": "=unit"},
                     "Task_confirm": {"candidateUsers": "alice,bob"},
                     "Task_sign": {"assignee": "${reviewer}"}}


@pytest.fixture
def people(services):
    seed(services)
    actors = {unit: make_user(services, "dept_handler", unit) for unit in ("GA", "JY", "CG")}
    actors["alice"] = make_user(services, "dept_handler", "ZZ", username="alice")
    actors["bob"] = make_user(services, "supervisor", "ZZ", username="bob")
    actors["carol"] = make_user(services, "dept_handler", "ZZ", username="carol")
    actors["dave"] = make_user(services, "leader", "ZZ", username="dave")
    actors["clerk"] = make_user(services, "intake_clerk", "ZZ")
    actors["ZZ"] = make_user(services, "dept_handler", "ZZ")
    deploy_files(services, {"unit_check.bpmn": FILE.read_bytes()})
    return actors


def _open(services, code: str) -> list[OpenTask]:
    with services.session_factory() as session:
        case = find_case(session, code)
        return list(session.scalars(select(OpenTask).where(OpenTask.case_id == case.id)
                                    .order_by(OpenTask.id)))


def _refused(services, action) -> str:
    with pytest.raises(Denied) as denied:
        action()
    return denied.value.rule


def _do(services, actor, code: str, task: OpenTask, **form):
    return complete_task(services.new_uow(), actor, case_no=code, task_id=task.task_id, raw=form)


def test_units_from_data_then_candidate_users_then_an_assignee(services, people):
    request = IntakeRequest(channel="counter", category="public_order", description="联合检查",
                            summary="联合检查", process_id="unit_check",
                            extra={"units": ["GA", "JY", "CG"], "reviewer": "dave"},
                            parties=[PartyInput(name="马德顺", role="applicant",
                                                phone="13912341234")])
    code = submit_intake(services.new_uow(), people["clerk"], request).case_no
    [plan] = _open(services, code)
    _do(services, people["ZZ"], code, plan)
    with services.session_factory() as session:
        codes = {d.id: d.code for d in session.scalars(select(Department))}
    checks = _open(services, code)
    assert sorted((codes[t.department_id], t.role) for t in checks) == [
        ("CG", "dept_handler"), ("GA", "dept_handler"), ("JY", "dept_handler")]
    for task in checks:
        unit = codes[task.department_id]
        other = people["GA" if unit != "GA" else "JY"]
        refused = _refused(services, lambda o=other, t=task: _do(services, o, code, t,
                                                                 check_result="x"))
        assert refused == "complete_task.department"
        _do(services, people[unit], code, task, check_result=f"{unit} 已检查")

    [confirm] = _open(services, code)
    assert confirm.role is None and confirm.candidate_users
    # a handler of the same unit who is not named does not even see the case
    refused = _refused(services, lambda: _do(services, people["carol"], code, confirm))
    assert refused == "view_case.scope"
    listed = inbox(services.new_uow(), people["bob"], InboxQuery())
    assert [row["bpmn_id"] for row in listed.rows] == ["Task_confirm"]
    _do(services, people["bob"], code, confirm, summary_ok="true")   # a supervisor, as named

    [sign] = _open(services, code)
    assert sign.assignee_id == int(people["dave"].id)
    assert _refused(services, lambda: _do(services, people["bob"], code, sign)) \
        == "complete_task.assignee"
    _do(services, people["dave"], code, sign)
    assert _open(services, code) == []
