"""The case page and the inbox cost the same number of SQL statements whatever a case or an inbox
holds (work orders, open tasks, units, history; tasks on the page): no statement per row."""

from __future__ import annotations

from sqlalchemy import event, select

from tests.web.conftest import login
from workflows.cases.lookup import find_case
from workflows.models import Department, OpenTask, WorkOrder


def _statements(services, call) -> int:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(services.db, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(services.db, "before_cursor_execute", count)
    return len(seen)


def _grow(services, case_no: str, first: int, n: int) -> None:
    """n more work orders of n more units, each with an open task, on the case."""
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        units = list(uow.session.scalars(select(Department.id)
                                         .order_by(Department.id)))[first:first + n]
        for k, unit in enumerate(units):
            order = WorkOrder(case_id=case.id, department_id=unit, round=9, role="co",
                              status="dispatched", dispatched_at=uow.clock.now())
            uow.session.add(order)
            uow.session.flush()
            uow.session.add(OpenTask(instance_id=case.workflow_instance_id, case_id=case.id,
                                     task_id=f"grow{first + k:032d}", bpmn_id="co_sign_off",
                                     name="协办签收", role="dept_handler", department_id=unit,
                                     work_order_id=order.id, ready_at=uow.clock.now()))
        uow.commit()


def test_the_case_page_costs_the_same_statements_with_one_order_or_seven(app, services, users,
                                                                        case_no):
    client = app.test_client()
    assert login(client, "supervisor").status_code == 302

    def show():
        assert client.get(f"/cases/{case_no}").status_code == 200

    _grow(services, case_no, 0, 1)    # a case with none skips the units' lookups
    show()
    before = _statements(services, show)
    _grow(services, case_no, 1, 6)
    assert _statements(services, show) == before


def test_the_inbox_costs_the_same_statements_with_one_task_or_seven(app, services, users,
                                                                   case_no):
    client = app.test_client()
    assert login(client, "dept_handler").status_code == 302

    def show():
        assert client.get("/inbox").status_code == 200

    show()
    before = _statements(services, show)
    with services.new_uow() as uow:
        zj = uow.session.scalar(select(Department.id).where(Department.code == "ZJ"))
        case = find_case(uow.session, case_no)
        for k in range(7):
            uow.session.add(OpenTask(instance_id=case.workflow_instance_id, case_id=case.id,
                                     task_id=f"many{k:032d}", bpmn_id="handle_case",
                                     name="办理", role="dept_handler", department_id=zj,
                                     ready_at=uow.clock.now()))
        uow.commit()
    assert _statements(services, show) == before
