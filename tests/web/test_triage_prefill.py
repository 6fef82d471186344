"""确认分流研判 starts from the routing table's suggestion: tier, lead unit, risk and handling
chosen, the suggested co-units ticked by name; the officer's own choice of co-units is what the
joint dispatch sends orders to (ticking the lead among them adds no order)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from engine.deadlines import SHANGHAI
from engine.forms import FormField, FormInvalid, validate_submission
from tests.factories import IDS, Walk
from tests.web.conftest import PASSWORD, login, post
from web import create_app
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.people import admin

SUGGESTED = ["FY", "GA", "GH", "JR", "SF", "ZJ"]


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def triage(services, clock, settings):
    """12 carpenters owed wages, registered and verified: the triage step is open."""
    clock.set(local(2025, 3, 10, 9, 30))
    walk = Walk.ready(services, clock)
    walk.intake(channel="counter", category="labour_collective", urgency="urgent",
                people_count=12, summary="12名木工被拖欠工资38.6万元", description="拖欠工资",
                parties=[PartyInput(name="马德顺", id_number=IDS["马德顺"], phone="13700000001"),
                         PartyInput(name="宏基建设工程有限公司", role="respondent")])
    walk.do("register", category="labour_collective", urgency="urgent", people_count="12",
            summary="12名木工被拖欠工资38.6万元")
    admin.create_user(services.new_uow(), SYSTEM, username="triage_zz", password=PASSWORD,
                      roles=["triage_officer"], department_code="ZZ", display_name="分流员")
    client = create_app(settings, services=services).test_client()
    client.get("/auth/login")
    assert login(client, "triage_zz", PASSWORD).status_code == 302
    return walk, client


def _page(walk, client) -> tuple[str, str]:
    task_id = walk.task("confirm_triage")["task_id"]
    return task_id, client.get(f"/cases/{walk.case_no}/tasks/{task_id}").get_data(as_text=True)


def test_the_triage_form_starts_from_the_routing_suggestion(triage):
    walk, client = triage
    _task, text = _page(walk, client)
    for field, code in (("tier", "district"), ("department", "RS"), ("risk_level", "orange"),
                        ("handling", "labour")):
        form_field = text[text.index(f'name="{field}"'):]
        assert re.search(rf'<option value="{code}" selected>', form_field[:4000]), field
    ticked = re.findall(r'name="co_departments" value="([A-Z]+)"[^>]*checked', text)
    assert sorted(ticked) == SUGGESTED
    assert "总工会" in text and "区人民法院" in text             # co-units by name
    assert 'name="co_departments" value="XF"' in text           # any unit can be added


def test_the_co_units_chosen_are_the_ones_that_get_orders(triage):
    walk, client = triage
    task_id, _text = _page(walk, client)
    response = post(client, f"/cases/{walk.case_no}/tasks/{task_id}", {
        "tier": "district", "department": "RS", "risk_level": "orange", "handling": "labour",
        "co_departments": ["", "ZJ", "GH", "RS"], "triage_note": "只需住建、工会协办"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    walk.do("sign_off", "RS", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="面谈")
    walk.do("request_evidence", evidence_items="工资台账", evidence_status="partial")
    co = sorted(t["dept"] for t in walk.open() if t["bpmn_id"] == "co_sign_off")
    assert co == ["GH", "ZJ"]


def test_unticking_every_co_unit_sends_no_co_orders(triage):
    walk, client = triage
    task_id, _text = _page(walk, client)
    response = post(client, f"/cases/{walk.case_no}/tasks/{task_id}", {
        "tier": "district", "department": "RS", "risk_level": "orange", "handling": "labour",
        "co_departments": "", "triage_note": "人社局单独办理"})
    assert response.status_code == 302
    walk.do("sign_off", "RS", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="in_person", contact_summary="面谈")
    walk.do("request_evidence", evidence_items="工资台账", evidence_status="partial")
    assert [t for t in walk.open() if t["bpmn_id"] == "co_sign_off"] == []


def test_none_ticked_means_no_co_units():
    field = FormField(id="co_departments", type="enums", options=(("ZJ", "住建局"), ("GH", "总工会")))
    assert validate_submission([field], {"co_departments": ""}) == {"co_departments": []}
    assert validate_submission([field], {}) == {}               # not sent: left as it was
    assert validate_submission([field], {"co_departments": ["GH", "ZJ", "GH"]}) == \
        {"co_departments": ["ZJ", "GH"]}                        # each once, in the form's order
    with pytest.raises(FormInvalid):
        validate_submission([field], {"co_departments": ["XX"]})
    required = FormField(id="co", type="enums", options=(("A", "a"),),
                         validation={"required": None})
    with pytest.raises(FormInvalid):
        validate_submission([required], {"co": ""})
