"""The warnings page and the rules page as supervisors, leaders and administrators use them."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import login, post
from tests.web.test_warnings import cli, hotspot, places  # noqa: F401 (fixtures)
from workflows.models import EarlyWarning, WarningRule


def _warnings(services) -> list[EarlyWarning]:
    with services.session_factory() as session:
        return list(session.scalars(select(EarlyWarning).order_by(EarlyWarning.id)))


def test_a_supervisor_confirms_one_warning_and_marks_another_false(
        client, services, hotspot):  # noqa: F811
    grid, building = _warnings(services)
    login(client, "supervisor")
    page = client.get("/warnings").get_data(as_text=True)
    assert page.count('data-testid="decide-form"') == 2
    assert "同类纠纷多发" in page and "待核实" in page and ">hotspot<" not in page
    response = post(client, f"/warnings/{building.id}/decide",
                    {"decision": "confirmed", "note": "现场核实，确有高空抛物"})
    assert response.status_code == 302
    refused = post(client, f"/warnings/{grid.id}/decide",
                   {"decision": "false_alarm", "note": "联系电话13800138000"})
    assert refused.status_code == 422 and "含有手机号" in refused.get_data(as_text=True)
    post(client, f"/warnings/{grid.id}/decide", {"decision": "false_alarm", "note": "同一事件"})
    again = post(client, f"/warnings/{grid.id}/decide", {"decision": "confirmed", "note": "再核"})
    assert again.status_code == 409
    assert [w.state for w in _warnings(services)] == ["false_alarm", "confirmed"]
    page = client.get("/warnings").get_data(as_text=True)
    assert "50.0%" in page and "已核实1条，误报1条" in page
    assert "同一事件" in page and "现场核实，确有高空抛物" in page
    open_only = client.get("/warnings?state=open").get_data(as_text=True)
    assert 'data-testid="warning-total">共0条' in open_only
    with services.session_factory() as session:
        decided = [json.loads(p) for p in session.scalars(select(AuditEvent.payload).where(
            AuditEvent.action == "warning_decided").order_by(AuditEvent.id))]
    assert [d["decision"] for d in decided] == ["confirmed", "false_alarm"]


def test_filters_by_rule_and_period(client, hotspot, clock):  # noqa: F811
    login(client, "leader")
    day = clock.now().date()
    assert "共2条" in client.get("/warnings?rule=hotspot").get_data(as_text=True)
    assert "共0条" in client.get("/warnings?rule=trend_spike").get_data(as_text=True)
    assert "共0条" in client.get(f"/warnings?from={day.isoformat()}").get_data(as_text=True)
    bad = client.get("/warnings?from=2025-13-01")
    assert bad.status_code == 200 and "共2条" in bad.get_data(as_text=True)
    # a leader reads but does not decide
    assert 'data-testid="decide-form"' not in client.get("/warnings").get_data(as_text=True)


def test_a_supervisor_of_another_township_sees_none_and_cannot_decide(
        client, users, services, hotspot):  # noqa: F811
    users.add("bs_supervisor", "supervisor", "BS-ZZ")
    login(client, "bs_supervisor")
    assert "共0条" in client.get("/warnings").get_data(as_text=True)
    warning = _warnings(services)[0]
    response = post(client, f"/warnings/{warning.id}/decide",
                    {"decision": "confirmed", "note": "看看"})
    assert response.status_code == 403
    assert _warnings(services)[0].state == "open"


def test_the_administrator_sets_a_rule_on_the_page(client, users, services):
    login(client, "admin")
    page = client.get("/admin/warning-rules").get_data(as_text=True)
    assert page.count('data-testid="rule-form"') == 6 and "节前欠薪" in page
    bad = post(client, "/admin/warning-rules/trend_spike",
               {"enabled": "true", "factor": "abc", "min_count": "5", "weeks": "8"})
    assert bad.status_code == 422 and 'value="abc"' in bad.get_data(as_text=True)
    done = post(client, "/admin/warning-rules/trend_spike",
                {"factor": "2.5", "min_count": "6", "weeks": "8", "categories": ["noise"]})
    assert done.status_code == 302
    with services.session_factory() as session:
        rule = session.get(WarningRule, "trend_spike")
        assert (rule.enabled, rule.params, rule.categories) == (
            False, {"factor": 2.5, "min_count": 6, "weeks": 8}, ["noise"])
    page = client.get("/admin/warning-rules").get_data(as_text=True)
    assert "已停用" in page and "噪声/城市管理" in page


@pytest.mark.parametrize("role", ["supervisor", "leader", "mediator"])
def test_only_administrators_open_the_rules_page(client, users, role):
    login(client, role)
    assert client.get("/admin/warning-rules").status_code == 403


def test_the_cli_json_names_the_rule_the_state_and_who_decided(
        cli, services, hotspot, clock, users):  # noqa: F811
    grid, building = _warnings(services)
    login_as = users.actor("supervisor")
    from workflows.early_warning.decide import decide_warning

    decide_warning(services.new_uow(), login_as, building.id, decision="confirmed",
                   note="现场核实")
    rows = {r["id"]: r for r in json.loads(cli("--json").output)}
    assert rows[building.id]["rule"] == "hotspot" and rows[building.id]["state"] == "confirmed"
    assert rows[building.id]["decided_by"] == login_as.username
    assert rows[building.id]["decided_at"] == clock.now().isoformat()
    assert rows[building.id]["note"] == "现场核实"
    assert (rows[grid.id]["state"], rows[grid.id]["decided_by"]) == ("open", None)
    assert [r["id"] for r in json.loads(cli("--json", "--state", "confirmed").output)] == [
        building.id]
    assert json.loads(cli("--json", "--rule", "trend_spike").output) == []
    text = cli().output
    assert "同类纠纷多发  已核实" in text and login_as.username in text


def test_the_case_page_names_a_large_group_warning_in_words(client, services, users, process,
                                                            places, clock):  # noqa: F811
    from workflows.cases.parties import PartyInput
    from workflows.early_warning.evaluate import evaluate
    from workflows.intake.register import IntakeRequest, submit_intake

    case_no = submit_intake(services.new_uow(), users.actor("intake_clerk"), IntakeRequest(
        channel="counter", category="labour_collective", summary="工地欠薪", people_count=12,
        description="十二名工人反映工地欠薪", place_id=places["SM-B1"],
        parties=[PartyInput(name="工人代表", phone="13800000019")])).case_no
    evaluate(services, clock.now())
    login(client, "supervisor")
    page = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "预警：群体性风险，一件纠纷涉及12人（达到5人）" in page
    assert "large_group" not in page.split('id="main"')[-1]
