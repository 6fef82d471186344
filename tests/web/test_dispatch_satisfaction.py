"""Joint dispatch view (lead and co-department orders) and the satisfaction step."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.web.conftest import post
from tests.web.test_task_pages import _task_id
from workflows import contract
from workflows import tasks as task_service
from workflows.cases import find_case
from workflows.models import Department, WorkOrder


def _orders(services, case_no: str) -> None:
    """A joint dispatch as the projection writes it: ZJ leads, SJ co-operates and returned."""
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        ids = dict(uow.session.execute(select(Department.code, Department.id)
                                       .where(Department.code.in_(["ZJ", "SJ"]))).all())
        case.lead_department_id = ids["ZJ"]
        uow.session.add_all([
            WorkOrder(case_id=case.id, department_id=ids["ZJ"], round=1, role="lead",
                      status="in_progress", result_summary="已约谈物业"),
            WorkOrder(case_id=case.id, department_id=ids["SJ"], round=1, role="co",
                      status="returned", return_reason="电梯维保不属本局职责清单"),
        ])
        uow.commit()


def test_lead_sees_every_co_department_status_and_result(as_role, services, case_no):
    _orders(services, case_no)
    text = as_role("dept_handler").get(f"/cases/{case_no}/dispatch").get_data(as_text=True)
    assert 'data-department="ZJ" data-role="lead" data-status="in_progress"' in text
    assert 'data-department="SJ" data-role="co" data-status="returned"' in text
    assert "已约谈物业" in text and "电梯维保不属本局职责清单" in text


def test_case_page_shows_the_work_orders(as_role, services, case_no):
    _orders(services, case_no)
    text = as_role("triage_officer").get(f"/cases/{case_no}").get_data(as_text=True)
    assert 'data-testid="work-orders"' in text and "退单：" in text


def test_joint_view_is_refused_outside_the_scope(as_role, services, case_no):
    assert as_role("dept_handler").get(f"/cases/{case_no}/dispatch").status_code == 403


def test_department_orders_page_lists_my_open_work(as_role, services, users, case_no):
    task_service.complete_task(services.new_uow(), users.actor("triage_officer"),
                               case_no=case_no, task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    text = as_role("dept_handler").get("/dispatch").get_data(as_text=True)
    assert case_no in text and 'data-task="handle"' in text


@pytest.fixture
def rating_step(monkeypatch, services, users, case_no):
    """The case at the rating step of the test process."""
    monkeypatch.setitem(contract.SATISFACTION_TASKS, "rate", "satisfaction")
    actor = users.actor
    task_service.complete_task(services.new_uow(), actor("triage_officer"), case_no=case_no,
                               task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    task_service.complete_task(services.new_uow(), actor("dept_handler"), case_no=case_no,
                               task_id=_task_id(services, case_no, "handle"),
                               raw={"result_summary": "已修复"})
    return case_no


def test_satisfaction_page_opens_the_rating_step(as_role, services, rating_step):
    client = as_role("intake_clerk")
    response = client.get(f"/cases/{rating_step}/satisfaction")
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    text = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="satisfaction"' in text and 'name="rating_comment"' in text


def test_dissatisfied_rating_sends_the_case_back_to_handling(as_role, services, rating_step):
    client = as_role("intake_clerk")
    step = client.get(f"/cases/{rating_step}/satisfaction").headers["Location"]
    response = post(client, step, {"satisfaction": "dissatisfied", "rating_comment": "电梯仍停运"})
    assert response.status_code == 302
    assert _task_id(services, rating_step, "handle")
    page = as_role("triage_officer").get(f"/cases/{rating_step}").get_data(as_text=True)
    assert 'data-testid="satisfaction">不满意' in page


def test_satisfied_rating_closes_the_case(as_role, services, rating_step):
    client = as_role("intake_clerk")
    step = client.get(f"/cases/{rating_step}/satisfaction").headers["Location"]
    post(client, step, {"satisfaction": "satisfied"})
    page = client.get(f"/cases/{rating_step}").get_data(as_text=True)
    assert 'data-status="closed"' in page


def test_satisfaction_page_without_a_rating_step_is_409(as_role, case_no):
    response = as_role("intake_clerk").get(f"/cases/{case_no}/satisfaction")
    assert response.status_code == 409
