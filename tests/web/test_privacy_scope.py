"""What a user is shown stays inside their scope: duplicate-check preview and API intake answer,
the complaint narrative behind a purpose, free text for co-departments and the history API's
payloads, the party_viewed access event."""

from __future__ import annotations

import json

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import login, post
from tests.web.test_case_pages import INTAKE
from tests.workflows.test_step_statements import counted
from workflows.access import tokens
from workflows.access.policy import case_access
from workflows.cases.lookup import find_case, load_case
from workflows.core.actors import SYSTEM
from workflows.models import Department, WorkOrder, case_rows

NARRATIVE = "锦绣家园3栋两部电梯已停运两周"


def _events(services, action: str) -> list[dict]:
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent.payload).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)).all()
    return [json.loads(p) for p in rows]


def _far_clerk(users) -> str:
    """An intake clerk of another unit (a street committee): none of the sample cases is theirs."""
    return users.add("far_clerk", "intake_clerk", "T_MEDIATION")


# -- #1 the duplicate check: global search, scoped answer, audited ------------------------------
def test_preview_of_a_case_outside_scope_names_no_code_and_is_audited(client, services, users,
                                                                      case_no):
    login(client, _far_clerk(users))
    assert client.get(f"/cases/{case_no}").status_code == 403

    preview = post(client, "/cases/new", {**INTAKE, "action": "preview"})
    text = preview.get_data(as_text=True)

    assert preview.status_code == 200 and 'data-kind="duplicate"' in text
    assert case_no not in text and "发现关联案件" in text
    search = _events(services, "parties_searched")[-1]
    assert search["kinds"] == ["id_number", "phone"] and search["results"] == 1
    assert search["in_scope"] == 0 and search["out_of_scope"] == 1
    assert "13912345678" not in json.dumps(search)


def test_preview_inside_scope_names_the_case_and_is_audited_too(as_role, services, case_no):
    client = as_role("intake_clerk")

    text = post(client, "/cases/new", {**INTAKE, "action": "preview"}).get_data(as_text=True)

    assert case_no in text
    assert _events(services, "parties_searched")[-1]["in_scope"] == 1


def test_saving_a_duplicate_of_a_case_outside_scope_ends_on_a_page_the_clerk_may_see(
        client, users, case_no):
    login(client, _far_clerk(users))

    saved = post(client, "/cases/new", {**INTAKE, "action": "save"})
    landing = client.get(saved.headers["Location"])
    text = landing.get_data(as_text=True)

    assert saved.status_code == 302 and landing.status_code == 200
    assert "已关联到其他单位在办的案件" in text and case_no not in text


def test_searches_above_the_hourly_limit_are_flagged_for_the_auditor(client, services, users,
                                                                     case_no, as_role):
    login(client, _far_clerk(users))
    limit = services.settings.search_alert_per_hour
    for _ in range(limit + 1):
        post(client, "/cases/new", {**INTAKE, "action": "preview"})
    auditor = as_role("auditor")

    page = auditor.get("/audit/access").get_data(as_text=True)

    assert 'data-testid="search-alerts"' in page and f"{limit + 1} 次" in page


def test_api_intake_linked_to_a_foreign_case_gets_no_code(client, services, users, case_no):
    token = tokens.issue_token(services.new_uow(), SYSTEM, username=_far_clerk(users),
                               channel="hotline_12345").token
    body = {"category": "property", "description": "电梯又坏了", "summary": "电梯停运",
            "parties": [{"role": "applicant", "name": "周海燕", "phone": "13912345678"}]}

    response = client.post("/api/v1/cases", json=body,
                           headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})
    again = client.post("/api/v1/cases", json=body,
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"})

    answer = response.get_json()
    assert response.status_code == 201 and answer["linked_as"] == "duplicate"
    assert answer["case_no"] is None and answer["status"] is None and answer["submission_id"]
    assert case_no not in response.get_data(as_text=True)
    assert again.get_json() == answer


def test_api_intake_linked_to_a_visible_case_gets_its_code(client, services, users, case_no):
    token = tokens.issue_token(services.new_uow(), SYSTEM, username="intake_clerk").token
    body = {"category": "property", "description": "电梯又坏了",
            "parties": [{"role": "applicant", "name": "周海燕", "phone": "13912345678"}]}

    answer = client.post("/api/v1/cases", json=body,
                         headers={"Authorization": f"Bearer {token}"}).get_json()

    assert answer["case_no"] == case_no and answer["linked_as"] == "duplicate"


# -- #4 the narrative: masked by default, revealed with a purpose, audited ------------------------
def test_narrative_is_masked_until_revealed_for_a_purpose(as_role, services, case_no):
    client = as_role("triage_officer")
    url = f"/cases/{case_no}/narrative/reveal"

    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    unstated = post(client, url, {"purpose": ""}, headers={"HX-Request": "true"})
    shown = post(client, url, {"purpose": "document", "reason": "起草协议"},
                 headers={"HX-Request": "true"})
    reloaded = client.get(f"/cases/{case_no}").get_data(as_text=True)

    assert NARRATIVE not in page and 'data-testid="reveal-narrative"' in page
    assert "电梯停运、物业费纠纷" in page                      # the personal-data-free summary
    assert unstated.status_code == 422 and NARRATIVE not in unstated.get_data(as_text=True)
    assert shown.status_code == 200 and NARRATIVE in shown.get_data(as_text=True)
    assert NARRATIVE not in reloaded
    [event] = _events(services, "narrative_unmasked")
    assert event["purpose"] == "document" and event["decision"] == "allow"


def test_auditor_and_co_department_cannot_reveal_the_narrative(client, as_role, services, users,
                                                               case_no):
    co = _co_department(services, users, case_no)
    auditor = as_role("auditor")
    assert 'data-testid="reveal-narrative"' not in auditor.get(f"/cases/{case_no}").get_data(
        as_text=True)
    refused = post(auditor, f"/cases/{case_no}/narrative/reveal", {"purpose": "contact"})
    client.get("/auth/login")
    login(client, co)
    refused_co = post(client, f"/cases/{case_no}/narrative/reveal", {"purpose": "contact"})

    for response in (refused, refused_co):
        assert response.status_code == 403 and NARRATIVE not in response.get_data(as_text=True)
    assert _events(services, "narrative_unmasked") == []


# -- #3 free text: co-departments read their own orders' texts only ------------------------------
def _co_department(services, users, case_no) -> str:
    """ZJ leads the case (result written), a handler of another department co-operates."""
    username = users.add("co_handler", "dept_handler", "T_MEDIATION")
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        depts = dict(uow.session.execute(select(Department.code, Department.id)).all())
        uow.session.add(WorkOrder(case_id=case.id, department_id=depts["ZJ"], round=1,
                                  role="lead", status="completed",
                                  result_summary="已与周女士电话沟通，物业承诺维修"))
        uow.session.add(WorkOrder(case_id=case.id, department_id=depts["T_MEDIATION"], round=1,
                                  role="co", status="in_progress",
                                  result_summary="协办意见已提交"))
        uow.commit()
    return username


def test_co_department_sees_its_own_order_text_not_the_leads(client, services, users, case_no):
    login(client, _co_department(services, users, case_no))

    page = client.get(f"/cases/{case_no}")
    text = page.get_data(as_text=True)

    assert page.status_code == 200
    assert "协办意见已提交" in text and "物业承诺维修" not in text
    assert "周*" in text and NARRATIVE not in text
    assert 'data-testid="documents"' not in text
    joint = client.get(f"/cases/{case_no}/dispatch").get_data(as_text=True)
    assert "协办意见已提交" in joint and "物业承诺维修" not in joint


def test_co_departments_page_decides_without_reading_the_cases_rows(client, services, users,
                                                                     case_no, db_engine):
    # the department's orders are asked with the case: its page sends no read of the case's
    # orders, clocks and open tasks together (a step's read) for the access check
    login(client, _co_department(services, users, case_no))
    with counted(db_engine) as statements:
        page = client.get(f"/cases/{case_no}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "物业承诺维修" not in text and NARRATIVE not in text
    assert not [s for s in statements if "sla_clock" in s and "open_task" in s]


def test_a_department_also_holding_another_order_is_not_only_co(client, services, users,
                                                               case_no):
    username = _co_department(services, users, case_no)
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        unit = uow.session.scalar(select(Department.id).where(Department.code == "T_MEDIATION"))
        uow.session.add(WorkOrder(case_id=case.id, department_id=unit, round=2, role="lead",
                                  status="dispatched"))
        uow.commit()
    login(client, username)
    assert "物业承诺维修" in client.get(f"/cases/{case_no}").get_data(as_text=True)


def test_lead_department_reads_the_result_text(as_role, services, users, case_no):
    _co_department(services, users, case_no)
    text = as_role("dept_handler").get(f"/cases/{case_no}").get_data(as_text=True)
    assert "物业承诺维修" in text


# -- #3 the history API: allow-listed payloads, raw only for the auditor (recorded) -----------------
def test_history_api_shows_codes_and_field_names_not_values(client, services, users, case_no):
    from tests.web.test_task_pages import _task_id
    from workflows.casework.tasks import complete_task

    triage = users.actor("triage_officer")
    complete_task(services.new_uow(), triage, case_no=case_no,
                  task_id=_task_id(services, case_no, "triage"),
                  raw={"department": "ZJ", "triage_note": "已与周女士电话沟通"})
    supervisor = tokens.issue_token(services.new_uow(), SYSTEM, username="supervisor").token
    auditor = tokens.issue_token(services.new_uow(), SYSTEM, username="auditor").token

    seen = client.get(f"/api/v1/cases/{case_no}/history",
                      headers={"Authorization": f"Bearer {supervisor}"}).get_json()
    raw = client.get(f"/api/v1/cases/{case_no}/history",
                     headers={"Authorization": f"Bearer {auditor}"}).get_json()

    completed = next(e for e in seen["events"] if e["action"] == "task_completed")
    assert completed["payload"]["fields"] == ["department", "triage_note"]
    assert "周女士" not in json.dumps(seen, ensure_ascii=False)
    assert not any("data_after" in e["payload"] or "initial_data" in e["payload"]
                   for e in seen["events"])
    assert "周女士" in json.dumps(raw, ensure_ascii=False)
    [read] = _events(services, "audit_payloads_read")
    assert read["decision"] == "allow" and read["events"] == len(raw["events"])


def test_case_page_records_the_view_with_purpose_decision_and_rule(as_role, services, case_no):
    as_role("triage_officer").get(f"/cases/{case_no}")
    [viewed] = _events(services, "party_viewed")
    assert viewed["purpose"] == "case_page" and viewed["decision"] == "allow"
    assert viewed["rule"] == "view_parties.scope" and viewed["masked"] is True
    assert viewed["narrative"] is False


def test_a_new_lead_order_ends_the_co_department_view_whatever_ends_in_between(
        services, users, case_no):
    """The 协办-only answer read with the case holds only until an order of the case is written
    or a transaction (a savepoint included) ends: after either, the orders decide."""
    username = _co_department(services, users, case_no)
    actor = users.actor(username)
    with services.new_uow() as uow:
        case = load_case(uow, actor, case_no)
        assert case_access(uow.session, actor, case).co_only          # from the case read
        unit = uow.session.scalar(select(Department.id).where(Department.code == "T_MEDIATION"))
        orders = case_rows.orders(uow.session, case)                  # a change reads rows first
        order = WorkOrder(case_id=case.id, department_id=unit, round=2, role="lead",
                          status="dispatched")
        uow.session.add(order)
        orders.append(order)
        uow.session.flush()
        assert not case_access(uow.session, actor, case).co_only      # rows known: right
        with uow.session.begin_nested():                              # any savepoint, e.g. a booking
            pass
        assert not case_rows.known(uow.session, case)
        assert not case_access(uow.session, actor, case).co_only, \
            "the answer read with the case is used after this transaction gave the dept a lead order"


def test_an_order_written_without_reading_the_rows_ends_the_co_department_view(
        services, users, case_no):
    username = _co_department(services, users, case_no)
    actor = users.actor(username)
    with services.new_uow() as uow:
        case = load_case(uow, actor, case_no)
        assert case_access(uow.session, actor, case).co_only          # from the case read
        unit = uow.session.scalar(select(Department.id).where(Department.code == "T_MEDIATION"))
        uow.session.add(WorkOrder(case_id=case.id, department_id=unit, round=2, role="lead",
                                  status="dispatched"))
        uow.session.flush()
        assert not case_access(uow.session, actor, case).co_only
