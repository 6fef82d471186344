"""Scope by unit, through every page and API route that names a case: staff of 青山镇's units
cannot read a case of 白沙镇, though the case has the same kind of lead unit (人民调解委员会),
the same tier and an orange risk that escalates it to leaders."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.district_fixtures import build_district
from tests.web.conftest import login
from tests.web.test_access_matrix import FOREIGN, OWN, PERSONAL, _actor, _has_case, _path, _routes
from tests.web.test_access_matrix import _register as register
from tests.web.test_access_matrix import _user as add_user
from workflows.cases.lookup import find_case
from workflows.models import Department, WorkOrder

TOWNSHIP_STAFF = {"intake_clerk": "QS-ZZ", "triage_officer": "QS-ZZ", "supervisor": "QS-ZZ",
                  "leader": "QS-ZZ", "mediator": "QS-JDTJ", "dept_handler": "QS-JDTJ"}


def _place(services, district, case_no: str, place: str, lead: str) -> None:
    with services.new_uow() as uow:
        case = find_case(uow.session, case_no)
        unit = uow.session.scalar(select(Department.id).where(Department.code == lead))
        case.place_id, case.place_path = district.places[place], district.paths[place]
        case.tier, case.risk_level, case.lead_department_id = "street", "orange", unit
        uow.session.add(WorkOrder(case_id=case.id, department_id=unit, round=1, role="lead",
                                  status="dispatched", dispatched_at=uow.clock.now()))
        uow.commit()


@pytest.fixture
def townships(services, reference, process):
    district = build_district(services)
    for role, unit in TOWNSHIP_STAFF.items():
        add_user(services, f"qs_{role}", role, unit)
    add_user(services, "bs_clerk", "intake_clerk", "BS-ZZ")
    own = register(services, _actor(services, "qs_intake_clerk"), OWN, "neighbour")
    foreign = register(services, _actor(services, "bs_clerk"), FOREIGN, "neighbour")
    _place(services, district, own, "QS-SM-G1-B3", "QS-JDTJ")
    _place(services, district, foreign, "BS-HT-G1-B1", "BS-JDTJ")
    return {"own": own, "foreign": foreign}


@pytest.mark.parametrize("role", sorted(TOWNSHIP_STAFF))
def test_township_staff_cannot_open_another_townships_case(app, services, townships, role):
    client = app.test_client()
    assert login(client, f"qs_{role}").status_code == 302
    pages = [rule for rule, method in _routes(app) if method == "GET" and _has_case(rule)
             and set(rule.arguments) == {"case_no"} and not rule.endpoint.startswith("api_v1.")]
    assert pages
    for rule in pages:
        response = client.get(_path(rule, rule.endpoint, {"case_no": townships["foreign"]}))
        body = response.get_data(as_text=True)
        assert response.status_code in (403, 404), (rule.rule, response.status_code)
        assert not [value for value in PERSONAL if value in body]
    listing = client.get("/cases").get_data(as_text=True)
    assert townships["foreign"] not in listing


@pytest.mark.parametrize("role", ["supervisor", "leader", "dept_handler"])
def test_township_staff_see_their_own_townships_case(app, townships, role):
    client = app.test_client()
    login(client, f"qs_{role}")
    response = client.get(f"/cases/{townships['own']}")
    assert response.status_code == 200
    assert townships["own"] in client.get("/cases").get_data(as_text=True)
