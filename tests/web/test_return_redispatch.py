"""Return (退单) and re-dispatch through the pages, on the shipped process library."""

from __future__ import annotations

import pytest

from tests.factories import IDS, Walk
from tests.web.conftest import PASSWORD, login, post
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM
from workflows.people import admin


@pytest.fixture
def walk(services, clock) -> Walk:
    walk = Walk.ready(services, clock)
    for username, role, dept in (("cg_handler", "dept_handler", "CG"),
                                 ("zz_triage", "triage_officer", "ZZ")):
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], department_code=dept)
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="小区旁工地夜间施工噪声扰民",
                parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"], phone="13812345678")])
    walk.do("register", category="noise", urgency="general", people_count="1",
            summary="夜间施工噪声")
    return walk


def _step(client, walk: Walk, bpmn_id: str) -> str:
    return f"/cases/{walk.case_no}/tasks/{walk.task(bpmn_id)['task_id']}"


def test_handler_returns_the_order_and_triage_redispatches(app, walk):
    handler = app.test_client()
    login(handler, "cg_handler")
    assert 'data-task="sign_off"' in handler.get("/dispatch").get_data(as_text=True)
    page = handler.get(_step(handler, walk, "sign_off")).get_data(as_text=True)
    assert 'name="return_reason"' in page and 'name="return_basis"' in page
    response = post(handler, _step(handler, walk, "sign_off"),
                    {"sign_off_decision": "return", "return_reason": "工地噪声属生态环境部门职责",
                     "return_basis": "部门职责清单第3条"})
    assert response.status_code == 302

    triage = app.test_client()
    login(triage, "zz_triage")
    text = triage.get("/dispatch").get_data(as_text=True)
    assert 'data-task="redispatch"' in text and walk.case_no in text
    joint = triage.get(f"/cases/{walk.case_no}/dispatch").get_data(as_text=True)
    assert 'data-department="CG" data-role="lead" data-status="returned"' in joint
    assert "工地噪声属生态环境部门职责" in joint
    response = post(triage, _step(triage, walk, "redispatch"),
                    {"department": "HJ", "redispatch_note": "退单成立，改派生态环境分局"})
    assert response.status_code == 302
    assert walk.task("sign_off")["dept"] == "HJ"
    joint = triage.get(f"/cases/{walk.case_no}/dispatch").get_data(as_text=True)
    assert 'data-department="HJ" data-role="lead" data-status="dispatched"' in joint
    assert 'data-task="sign_off"' not in handler.get("/dispatch").get_data(as_text=True)


def test_a_return_without_its_reason_and_basis_stays_on_the_form(app, walk):
    """退单 must say why and on what basis: without them the handler is asked on the form
    (what was chosen kept) and the triage officer gets no empty review."""
    handler = app.test_client()
    login(handler, "cg_handler")
    response = post(handler, _step(handler, walk, "sign_off"),
                    {"sign_off_decision": "return", "return_reason": "工地噪声不归本局"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    basis = text.split('name="return_basis"')[1].split("</div>")[0]
    assert "必填" in basis and "工地噪声不归本局" in text
    assert walk.ids() == ["sign_off"]


def test_intake_preview_shows_a_second_complaint_before_saving(app, services, walk, clock):
    """A closed case in its watch window: the clerk sees its code and state before saving."""
    from tests.bpmn.test_services_general import close_with_rating

    close_with_rating(services, walk)
    clock.advance(days=3)
    admin.create_user(services.new_uow(), SYSTEM, username="zz_clerk", password=PASSWORD,
                      roles=["intake_clerk"], department_code="ZZ")
    clerk = app.test_client()
    login(clerk, "zz_clerk")
    form = {"channel": "portal", "category": "noise", "urgency": "general", "people_count": "1",
            "summary": "噪声又出现", "description": "工地夜间施工又开始了", "action": "preview",
            "parties-0-role": "applicant", "parties-0-name": "刘淑芬",
            "parties-0-id_number": IDS["刘淑芬"], "parties-0-contact_preference": "sms"}
    text = post(clerk, "/cases/new", form).get_data(as_text=True)
    assert 'data-kind="second_complaint"' in text and walk.case_no in text and "已结案" in text
    saved = post(clerk, "/cases/new", {**form, "action": "save"})
    assert saved.headers["Location"].startswith(f"/cases/{walk.case_no}/receipt")
    assert walk.summary()["second_complaint"] is True
