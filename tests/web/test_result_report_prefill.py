"""The result report (提交办结报告) starts from every outcome the earlier steps make certain — a
mediation ended (调解不成), refused (不予调解), a joint handling concluded 已解决 — shown in words,
and the handler may still choose another."""

from __future__ import annotations

import re

from tests.bpmn.test_services_general import registered
from tests.bpmn.test_services_mediation import c01, to_mediation  # noqa: F401 (fixture)
from tests.factories import Walk
from tests.web.conftest import PASSWORD, login, post
from tests.web.test_case_life_steps import _step, _street_mediator, _to_signing
from tests.web.test_pages_in_words import visible_text
from workflows.access.policy import actor_for_user
from workflows.casework import views as case_views
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin


def _handler(app, services, username: str, unit: str):
    admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                      roles=["dept_handler"], department_code=unit, display_name="宋承办")
    client = app.test_client()
    login(client, username)
    return client


def _chosen(page: str) -> str:
    """The words of the outcome select's chosen option ("" when none is)."""
    select_html = page.split('name="outcome"')[1].split("</select>")[0]
    if " selected>" not in select_html or '<option value="" selected>' in select_html:
        return ""
    return visible_text(select_html.split(" selected>")[1].split("</option>")[0])


def test_a_terminated_mediation_starts_at_mediation_failed(app, services, c01):  # noqa: F811
    _street_mediator(app, services, c01)
    _to_signing(c01)
    c01.do("sign_agreement", signing_outcome="refused", agreement_effective_date="2025-03-03")
    c01.do("terminate_mediation", termination_reason="一方拒签", legal_routes_informed="true")
    handler = _handler(app, services, "jdtj_lead", "JDTJ")
    page = handler.get(_step(c01, "submit_result")).get_data(as_text=True)
    assert _chosen(page) == "调解不成，告知法律途径"
    assert "R5" not in visible_text(page.split('name="outcome"')[1].split("</select>")[0])
    # the mediation's own steps, listed above the form, name the outcome in words too
    text = visible_text(page)
    assert "转入法定途径跟踪（调解不成，告知法律途径后）" in text
    assert not re.search(r"\bR[1-5]\b", text), "no outcome code anywhere on the page"
    # the field stays a choice: the handler may report another outcome
    answer = post(handler, _step(c01, "submit_result"),
                  {"outcome": "R3", "result_summary": "已解释说明"})
    assert answer.status_code == 302
    review = c01.task("review_result")
    with services.session_factory() as session:
        reviewer = actor_for_user(session.get(User, int(c01.actor_for(review).id)))
    data = case_views.task_page(services.new_uow(), reviewer, c01.case_no,
                                review["task_id"]).task.data
    assert data["outcome"] == "R3"


def test_a_refused_mediation_starts_at_routed(app, services, c01):  # noqa: F811
    to_mediation(c01)
    c01.do("confirm_consent", consent="refused", consent_note="被申请人拒绝调解")
    c01.do("refusal_notice", legal_route_notice="可向人民法院起诉")
    handler = _handler(app, services, "jdtj_lead", "JDTJ")
    page = handler.get(_step(c01, "submit_result")).get_data(as_text=True)
    assert _chosen(page) == "依法导入法定途径"


def _noise_case(services, clock) -> Walk:
    walk = Walk.ready(services, clock)
    registered(walk)                        # lead 城管 (CG), co-unit 街道 (JD)
    walk.do("sign_off", sign_off_decision="accept")
    walk.do("contact_citizen", contact_channel="phone", contact_summary="已联系")
    walk.do("co_sign_off", "JD", co_sign_off_decision="accept")
    walk.do("co_handle", "JD", co_result="街道已协调工地", co_result_status="done")
    return walk


def test_a_joint_handling_concluded_resolved_starts_at_administrative_action(app, services,
                                                                          clock):
    walk = _noise_case(services, clock)
    walk.do("lead_consolidate", joint_result="已责令停止夜间施工", joint_outcome="resolved")
    handler = _handler(app, services, "cg_lead", "CG")
    page = handler.get(_step(walk, "submit_result")).get_data(as_text=True)
    assert _chosen(page) == "行政处理化解"


def test_a_joint_handling_partly_resolved_leaves_the_outcome_open(app, services, clock):
    walk = _noise_case(services, clock)
    walk.do("lead_consolidate", joint_result="部分整改", joint_outcome="partly_resolved")
    handler = _handler(app, services, "cg_lead", "CG")
    page = handler.get(_step(walk, "submit_result")).get_data(as_text=True)
    assert _chosen(page) == ""
