"""Return (退单) and re-dispatch through the pages, on the shipped process library."""

from __future__ import annotations

import pytest

from tests.factories import IDS, Walk
from tests.web.conftest import PASSWORD, login, post
from workflows import admin
from workflows.actors import SYSTEM
from workflows.parties import PartyInput


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
