"""登记核对 shows the summary typed at intake; the clerk's corrected summary is the case's: the
case page and the case list's search show it, and the case history records the change."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.bpmn.test_services_general import local, noise_request
from tests.factories import BPMN_DIR, Walk, deploy_files, seed
from tests.web.conftest import PASSWORD, login, post
from web import create_app
from workflows.cases.lookup import find_case
from workflows.cases.timeline import project_payload
from workflows.core.actors import SYSTEM
from workflows.models import User
from workflows.people import admin
from workflows.processes.deploy import read_directory

OLD = "夜间装修噪声"
NEW = "夜间装修噪声扰民，三户受影响"


@pytest.fixture
def register(services, clock, settings):
    """A noise case registered by the hotline; its 登记核对 is open in the clerk's browser."""
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    walk.intake(**vars(noise_request(summary=OLD)))
    admin.create_user(services.new_uow(), SYSTEM, username="clerk_zz", password=PASSWORD,
                      roles=["intake_clerk"], department_code="ZZ", display_name="受理员")
    client = create_app(settings, services=services).test_client()
    client.get("/auth/login")
    assert login(client, "clerk_zz", PASSWORD).status_code == 302
    task_id = walk.task("register")["task_id"]
    return walk, client, f"/cases/{walk.case_no}/tasks/{task_id}"


def _form(summary: str) -> dict:
    return {"category": "noise", "urgency": "general", "people_count": "3", "emergency": "false",
            "statutory_channel": "false", "summary": summary}


def _listed(client, q: str) -> str:
    return client.get("/cases", query_string={"q": q}).get_data(as_text=True)


def test_the_corrected_summary_is_the_cases_and_is_found_by_the_search(register, services):
    walk, client, path = register
    page = client.get(path).get_data(as_text=True)
    assert re.search(rf'<textarea[^>]*name="summary"[^>]*>\s*{OLD}\s*</textarea>', page)

    response = post(client, path, _form(NEW))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    case_page = unescape(client.get(f"/cases/{walk.case_no}").get_data(as_text=True))
    assert re.search(r'data-testid="case-summary">(.*?)</dd>', case_page).group(1) == NEW
    assert re.search(r'>涉及人数</dt><dd class="col-sm-4">(.*?)</dd>', case_page).group(1) == "3"
    assert "更正事项摘要" in case_page                     # the history names the change
    assert walk.case_no in _listed(client, "三户")
    assert walk.case_no not in _listed(client, "电梯")
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        assert (case.summary, case.people_count) == (NEW, 3)
        changes = _corrections(uow.session, case.id)
    assert [(c["change"], c["old_text"], c["new_text"], c["task"]) for c, _actor in changes] == \
        [("summary_corrected", OLD, NEW, "register")]
    # the history others see (codes only) names the change but keeps neither text
    shown = project_payload(changes[0][0])
    assert shown["change"] == "summary_corrected" and OLD not in str(shown) and NEW not in str(shown)
    assert [actor for _c, actor in changes] == [str(_user_id(services, "clerk_zz"))]


def test_an_unchanged_summary_records_no_change(register, services):
    walk, client, path = register
    assert post(client, path, _form(OLD)).status_code == 302
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        assert case.summary == OLD
        assert _corrections(uow.session, case.id) == []


def test_a_summary_the_case_cannot_hold_is_refused_and_lines_are_joined(register, services):
    walk, client, path = register
    response = post(client, path, _form("噪" * 201))     # the form and the case allow 200
    assert response.status_code == 422
    assert "最多 200 个字符" in response.get_data(as_text=True)
    assert walk.ids() == ["register"]
    assert post(client, path, _form("夜间装修噪声扰民\r\n三户受影响")).status_code == 302
    with services.new_uow() as uow:
        assert find_case(uow.session, walk.case_no).summary == "夜间装修噪声扰民 三户受影响"


def _corrections(session, case_id: int) -> list[tuple[dict, str]]:
    """The case's corrections of intake fields in the history: (payload, actor id)."""
    rows = session.execute(select(AuditEvent.payload, AuditEvent.actor_id).where(
        AuditEvent.case_id == case_id, AuditEvent.action == "case_updated")).all()
    return [(payload, actor) for payload, actor in ((json.loads(p), a) for p, a in rows)
            if payload.get("change", "").endswith("_corrected")]


def _user_id(services, username: str) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(User.id).where(User.username == username))


def test_a_phone_number_split_over_lines_is_refused_once_joined(register, services):
    """Each line alone passes the form's personal-data check; joined they are a mobile number."""
    walk, client, path = register
    response = post(client, path, _form("夜间装修噪声扰民 联系138\r\n1234\r\n5678"))
    assert response.status_code == 422
    assert "文字中不能填写身份证号、电话" in response.get_data(as_text=True)
    assert walk.ids() == ["register"]
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        assert case.summary == OLD and _corrections(uow.session, case.id) == []



def test_a_summary_field_on_another_task_leaves_the_case_summary(services, clock):
    """A process version may put a field named ``summary`` on another step (here sign-off): there
    it is that step's data; only 登记核对's summary is the case's."""
    clock.set(local(2025, 3, 3, 9, 0))
    seed(services)
    files = read_directory(BPMN_DIR)
    anchor = '<camunda:formField id="return_basis"'
    xml = files["general_dispute.bpmn"].decode()
    assert xml.count(anchor) == 1
    files["general_dispute.bpmn"] = xml.replace(anchor, '<camunda:formField id="summary" '
                                                'label="签收说明" type="textarea"/>' + anchor).encode()
    deploy_files(services, files)
    walk = Walk(services, clock)
    walk.intake(**vars(noise_request(summary=OLD)))
    walk.do("register", category="noise", urgency="general", people_count="3", summary=NEW)
    walk.do("sign_off", walk.task("sign_off")["dept"], sign_off_decision="accept",
            summary="本单位已签收")
    with services.new_uow() as uow:
        case = find_case(uow.session, walk.case_no)
        assert case.summary == NEW
        assert [c["task"] for c, _actor in _corrections(uow.session, case.id)] == ["register"]
