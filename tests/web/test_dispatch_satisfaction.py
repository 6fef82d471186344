"""Joint dispatch view (lead and co-department orders) and the satisfaction step."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from tests.web.conftest import post
from tests.web.test_pages_in_words import visible_text
from tests.web.test_task_pages import _task_id, kept_rows
from workflows.cases.lookup import find_case
from workflows.casework import tasks as task_service
from workflows.library import contract
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
def rating_step(services, users, case_no):
    """The case handled and waiting for the citizen's rating (T-52 window open)."""
    actor = users.actor
    task_service.complete_task(services.new_uow(), actor("triage_officer"), case_no=case_no,
                               task_id=_task_id(services, case_no, "triage"),
                               raw={"department": "ZJ", "triage_note": "ok"})
    task_service.complete_task(services.new_uow(), actor("dept_handler"), case_no=case_no,
                               task_id=_task_id(services, case_no, "handle"),
                               raw={"result_summary": "已修复"})
    return case_no


def test_rating_form_records_a_dissatisfied_rating_and_rehandling_follows(as_role, services,
                                                                          rating_step):
    client = as_role("intake_clerk")
    page = client.get(f"/cases/{rating_step}/satisfaction")
    assert page.status_code == 200 and 'name="rating"' in page.get_data(as_text=True)
    response = post(client, f"/cases/{rating_step}/satisfaction",
                    {"rating": "dissatisfied", "source": "sms_link", "comment": "电梯仍停运"})
    assert response.status_code == 302
    assert _task_id(services, rating_step, "handle")
    text = as_role("triage_officer").get(f"/cases/{rating_step}").get_data(as_text=True)
    assert 'data-testid="satisfaction">不满意' in text


def test_satisfied_rating_closes_the_case(as_role, services, rating_step):
    client = as_role("intake_clerk")
    post(client, f"/cases/{rating_step}/satisfaction", {"rating": "satisfied"})
    assert 'data-status="closed"' in client.get(f"/cases/{rating_step}").get_data(as_text=True)


def test_a_case_waiting_for_the_rating_says_so_as_its_current_step(as_role, rating_step):
    """No step is open while the citizen's rating is awaited: 当前环节 names the wait, not a dash;
    once closed the header has no step again."""
    client = as_role("intake_clerk")
    for page in (f"/cases/{rating_step}", f"/cases/{rating_step}/satisfaction"):
        text = client.get(page).get_data(as_text=True)
        assert re.search(r'data-testid="stage">\s*待回访评价\s*<', text), page
        assert "当前环节待回访评价" in visible_text(text), page
    post(client, f"/cases/{rating_step}/satisfaction", {"rating": "satisfied"})
    text = client.get(f"/cases/{rating_step}").get_data(as_text=True)
    assert re.search(r'data-testid="stage">\s*—\s*<', text)


def test_rating_needs_a_value(as_role, rating_step):
    response = post(as_role("intake_clerk"), f"/cases/{rating_step}/satisfaction", {"rating": ""})
    assert response.status_code == 422 and "is-invalid" in response.get_data(as_text=True)


def test_rating_a_case_that_does_not_wait_for_one_is_409(as_role, case_no):
    response = post(as_role("intake_clerk"), f"/cases/{case_no}/satisfaction",
                    {"rating": "satisfied", "comment": "很好"})
    assert response.status_code == 409 and "很好" in response.get_data(as_text=True)
    rows = kept_rows(response.get_data(as_text=True))    # the rating in words, no field id
    assert "满意" in rows and not re.search(r"satisfied|rating|comment", rows)


def test_rating_is_refused_to_roles_without_the_right(as_role, rating_step):
    assert as_role("auditor").get(f"/cases/{rating_step}/satisfaction").status_code == 403


def test_after_the_window_the_page_leads_to_the_phone_return_visit(as_role, services, clock,
                                                                   monkeypatch, rating_step):
    from workflows.scheduler.timers import sweep

    monkeypatch.setitem(contract.SATISFACTION_TASKS, "rate", "satisfaction")
    clock.advance(hours=73)
    sweep(services, clock.now())
    client = as_role("intake_clerk")
    response = client.get(f"/cases/{rating_step}/satisfaction")
    assert response.status_code == 302 and "/tasks/" in response.headers["Location"]
    step = response.headers["Location"]
    assert 'name="satisfaction"' in client.get(step).get_data(as_text=True)
    post(client, step, {"satisfaction": "satisfied", "rating_comment": "电话回访满意"})
    assert 'data-status="closed"' in client.get(f"/cases/{rating_step}").get_data(as_text=True)
