"""Over HTTP the caller is read with the directory stamp: a registration or a step then reads no
units and no lane roles while this process keeps them, and a unit changed on the admin page is
routed to by the next step (statements counted with an SQLAlchemy event listener; never timed)."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.web.conftest import csrf_token, new_case, post
from tests.web.test_case_pages import INTAKE
from tests.workflows.test_directory_cache import role_reads, unit_reads
from tests.workflows.test_step_statements import counted
from workflows.access import tokens
from workflows.cases.lookup import find_case
from workflows.core.actors import SYSTEM
from workflows.models import Department, DirectoryStamp, OpenTask

ANOTHER = {**INTAKE, "channel_ref": "12345-20250704-0002", "category": "other",
           "parties-0-name": "王建国", "parties-0-phone": "13912345679",
           "parties-0-id_number": "", "summary": "楼上漏水", "description": "楼上漏水多次协商未果。"}


def _task(services, case_no: str, bpmn_id: str) -> tuple[str, str | None]:
    """(task id, unit code) of the case's open task ``bpmn_id``."""
    with services.session_factory() as session:
        case = find_case(session, case_no)
        task_id, unit = session.execute(
            select(OpenTask.task_id, Department.code)
            .outerjoin(Department, Department.id == OpenTask.department_id)
            .where(OpenTask.case_id == case.id, OpenTask.bpmn_id == bpmn_id)).one()
        return task_id, unit


def _triage(client, services, case_no: str) -> list[str]:
    """Open the triage page and send the case to 住建 (ZJ) on it; what the two requests sent
    (the page names units in its instructions, so either may be the one that reads them)."""
    task_id, _unit = _task(services, case_no, "triage")
    page = f"/cases/{case_no}/tasks/{task_id}"
    token = csrf_token(client, "/inbox")   # (a page that reads no units)
    with counted(services.db) as statements:
        client.get(page)
        response = client.post(page, data={"department": "ZJ", "triage_note": "住建局牵头",
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return statements


def test_a_form_registration_reads_no_units_and_no_roles_once_they_are_kept(as_role, process,
                                                                           services):
    client = as_role("intake_clerk")
    assert post(client, "/cases/new", {**INTAKE, "action": "save"}).status_code == 302
    client.get("/cases/new")

    with counted(services.db) as statements:
        response = post(client, "/cases/new", {**ANOTHER, "action": "save"})

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert "/receipt" in response.headers["Location"]          # a new case registered
    assert unit_reads(statements) == [], "\n".join(statements)
    assert role_reads(statements) == [], "\n".join(statements)


def test_a_unit_changed_on_the_admin_page_is_routed_to_by_the_next_step(as_role, services, users,
                                                                        process):
    first = new_case(services, users)
    second = new_case(services, users, category="other", phone="13912345679")
    sent = _triage(as_role("triage_officer"), services, first)
    assert unit_reads(sent) == [], "\n".join(sent)            # what the process keeps
    assert _task(services, first, "handle")[1] == "ZJ"

    admin = as_role("admin")
    assert post(admin, "/admin/units/ZJ", {"name": "区住建局", "kind": "ZJ",
                                           "place": ""}).status_code == 302   # switched off
    assert post(admin, "/admin/units", {"code": "ZJ2", "name": "区住建局（新）", "kind": "ZJ",
                                        "place": ""}).status_code == 302
    sent = _triage(as_role("triage_officer"), services, second)

    assert _task(services, second, "handle")[1] == "ZJ2"
    assert len(unit_reads(sent)) == 1, "\n".join(sent)        # read again after the change


def test_a_unit_renamed_in_plain_sql_is_seen_by_the_next_request(as_role, services, users,
                                                                   process):
    """What a migration's op.execute or psql by hand sends: no stamp of its own, the database's
    triggers move it in the same transaction."""
    first = new_case(services, users)
    second = new_case(services, users, category="other", phone="13912345679")
    assert unit_reads(_triage(as_role("triage_officer"), services, first)) == []   # kept
    with services.session_factory() as session:
        before = session.scalar(select(DirectoryStamp.token))
        session.execute(text("UPDATE department SET name = '区住建局（撤）', active = :no "
                             "WHERE code = 'ZJ'"), {"no": False})
        session.execute(text("UPDATE department SET kind = 'ZJ' WHERE code = 'T_CENTRE'"))
        assert session.scalar(select(DirectoryStamp.token)) != before   # in that transaction
        session.commit()

    sent = _triage(as_role("triage_officer"), services, second)

    assert _task(services, second, "handle")[1] == "T_CENTRE"
    assert len(unit_reads(sent)) == 1, "\n".join(sent)        # read again after the change


def test_an_api_registration_reads_no_units_and_no_stamp_of_its_own(app, services, users, process):
    token = tokens.issue_token(services.new_uow(), SYSTEM, username="intake_clerk").token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def register(phone: str) -> list[str]:
        body = {"category": "property", "summary": "电梯停运", "description": "两部电梯停运两周。",
                "parties": [{"role": "applicant", "name": "刘淑芬", "phone": phone}]}
        with counted(services.db) as statements:
            response = client.post("/api/v1/cases", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        return statements

    register("13800000001")                 # the first: the token's use is stamped, units kept
    statements = register("13800000002")

    assert unit_reads(statements) == [], "\n".join(statements)
    assert [s for s in statements if s.lstrip().startswith("SELECT directory_stamp")] == [], \
        "\n".join(statements)
