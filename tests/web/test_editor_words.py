"""The editor's validation and dry run in the page's words: limits, generated sample data,
Chinese errors with the element id, the next timer when a repeating reminder is armed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tests.engine.test_limits import huge, runaway
from tests.web.conftest import csrf_token

EDITOR = Path(__file__).parents[1] / "fixtures" / "bpmn" / "editor"
LIBRARY = Path(__file__).parents[2] / "bpmn"


@pytest.fixture
def owner(as_role):
    return as_role("process_owner")


def _post(client, path: str, body: dict):
    token = csrf_token(client, "/processes/")
    return client.post(path, data=json.dumps(body), content_type="application/json",
                       headers={"X-CSRFToken": token})


def _school() -> dict[str, str]:
    return {"school.bpmn": (EDITOR / "start_form.bpmn").read_text(encoding="utf-8")}


def _library() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(LIBRARY.iterdir())
            if p.suffix in (".bpmn", ".dmn")}


def test_a_cardinality_of_a_million_is_refused_in_chinese_on_its_element(owner):
    answer = _post(owner, "/processes/editor/validate", {"files": huge("1000000")})
    assert answer.status_code == 422
    [error] = answer.get_json()["errors"]
    assert error["element_id"] == "review"
    assert error["message"] == "多实例或循环数量 1000000 超过上限 200（设置 max_cardinality）"


def test_a_validation_over_its_step_budget_answers_422_naming_the_loop(owner, services):
    services.settings = replace(services.settings, run_budget_steps=80)
    answer = _post(owner, "/processes/editor/validate", {"files": runaway()})
    assert answer.status_code == 422 and not answer.get_json()["ok"]
    assert any("80 步" in e["message"] for e in answer.get_json()["errors"])


def test_a_runaway_dry_run_answers_422_naming_the_loop(owner, services):
    services.settings = replace(services.settings, run_budget_steps=80)
    answer = _post(owner, "/processes/editor/dry-run", {"files": runaway()})
    assert answer.status_code == 422
    [problem] = answer.get_json()["problems"]
    assert problem["element_id"] in {"spin", "again"}
    assert "80 步" in problem["message"]


def test_sample_data_comes_from_the_declared_start_form(owner):
    data = _post(owner, "/processes/editor/sample-data", {"files": _school()}).get_json()["data"]
    assert data["hazard"] == "traffic" and data["schools"] == 1 and data["night"] is False
    assert len(data["found_on"]) == 10


def test_the_products_own_entry_process_gets_the_intake_contracts_data(owner):
    files = _library()
    data = _post(owner, "/processes/editor/sample-data", {"files": files}).get_json()["data"]
    assert data["duplicate_candidates"] == [] and data["category"] == "neighbour"
    register = {"category": "neighbour", "urgency": "general", "people_count": 2,
                "emergency": False, "statutory_channel": False, "summary": "楼上漏水"}
    answer = _post(owner, "/processes/editor/dry-run", {
        "files": files, "data": data, "actions": [{"complete": "register", "data": register},
                                                  {"advance": "next_timer"}]}).get_json()
    result = answer["result"]
    assert result["error"] is None
    assert [t["element_id"] for t in result["fired_timers"]] == ["sign_off_warning"]


def test_a_missing_start_value_is_an_error_in_chinese_with_the_element(owner):
    register = {"category": "neighbour", "urgency": "general", "people_count": 2,
                "emergency": False, "statutory_channel": False, "summary": "楼上漏水"}
    result = _post(owner, "/processes/editor/dry-run", {
        "files": _library(), "data": {},
        "actions": [{"complete": "register", "data": register}]}).get_json()["result"]
    error = result["error"]
    assert error["element_id"] == "gw_duplicate_check"
    assert error["message"] == ("元素 gw_duplicate_check：表达式 len(duplicate_candidates) > 0 "
                                "用到的数据 duplicate_candidates 不存在：请在示例数据中补上它")


def test_the_same_error_in_english_on_an_english_page(owner):
    owner.post("/i18n/locale/en", data={"csrf_token": csrf_token(owner, "/processes/")})
    result = _post(owner, "/processes/editor/dry-run", {
        "files": _library(), "data": {},
        "actions": [{"complete": "register", "data": {
            "category": "neighbour", "urgency": "general", "people_count": 2,
            "emergency": False, "statutory_channel": False,
            "summary": "leak"}}]}).get_json()["result"]
    message = result["error"]["message"]
    assert "duplicate_candidates" in message and "gw_duplicate_check" in message
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_next_timer_reaches_a_repeating_reminder_and_says_so_in_words_when_none(owner):
    data = {"hazard": "traffic", "schools": 1, "night": False, "found_on": "2025-03-03"}
    result = _post(owner, "/processes/editor/dry-run", {
        "files": _school(), "data": data, "actions": [{"advance": "next_timer"}]}
    ).get_json()["result"]
    assert result["error"] is None
    assert [t["element_id"] for t in result["fired_timers"]] == ["remind"]
    finished = _post(owner, "/processes/editor/dry-run", {
        "files": _school(), "data": data,
        "actions": [{"complete": "check", "data": {}}, {"advance": "next_timer"}]}
    ).get_json()["result"]
    assert finished["error"]["message"] == "没有等待中的计时器"


def _mediation(version: str) -> dict[str, str]:
    from tests.process_fixtures import PROCESSES
    return {"mediation.bpmn": (PROCESSES / f"mediation_{version}.bpmn").read_text(encoding="utf-8")}


def test_a_dry_run_saved_as_an_example_is_rerun_against_a_new_draft_in_words(owner):
    actions = [{"complete": "register", "data": {"category": "labour"}},
               {"complete": "mediate", "data": {"outcome": "agreed"}}]
    saved = _post(owner, "/processes/editor/examples", {
        "files": _mediation("v1"), "process_id": "mediation", "title": "调解成功",
        "data": {"case_no": "EX-1"}, "actions": actions})
    assert saved.status_code == 201
    listed = owner.get("/processes/editor/examples.json?process=mediation").get_json()
    assert [e["title"] for e in listed["examples"]] == ["调解成功"]
    same = _post(owner, "/processes/editor/examples/check",
                 {"files": _mediation("v1"), "process_id": "mediation"}).get_json()
    assert [c["verdict"] for c in same["checks"]] == ["路径没有变化"]
    [changed] = _post(owner, "/processes/editor/examples/check",
                      {"files": _mediation("v2"), "process_id": "mediation"}).get_json()["checks"]
    assert changed["verdict"] == "路径有变化"
    assert changed["details"] == [
        "第 5 步不同：原来是 end_done，现在是 （路径已结束）；不再经过：end_done",
        "最后等待办理的任务：原来 （无），现在 record_agreement",
        "流程现在不再走到结束"]
    example_id = saved.get_json()["example"]["id"]
    assert _post(owner, f"/processes/editor/examples/{example_id}/delete", {}).status_code == 200
    assert owner.get("/processes/editor/examples.json").get_json()["examples"] == []


def test_an_example_without_a_title_is_refused_in_words(owner):
    answer = owner.post("/processes/editor/examples", data=json.dumps({
        "files": _mediation("v1"), "title": "", "data": {}, "actions": []}),
        content_type="application/json",
        headers={"X-CSRFToken": csrf_token(owner, "/processes/"), "Accept": "application/json"})
    assert answer.status_code == 422 and "title" in answer.get_json()["errors"]
