"""Dry runs: path, timers and final data from chosen input and clock moves, all in memory."""

from __future__ import annotations

from datetime import timedelta

from engine.simulate import simulate
from engine.specs import compile_bundle
from tests.process_fixtures import MONDAY_9, PROCESSES, bundle, calendar, script_engine


def _run(name: str, actions, data=None, process_id="mediation", b=None):
    cal = calendar()
    return simulate(b or bundle(name), process_id, script_engine=script_engine(), start=MONDAY_9,
                    data=data or {"case_no": "C-TEST"}, actions=actions, resolve=cal.resolve)


def _path(result):
    return [(s.element_id, s.outcome) for s in result.path]


def test_happy_path_to_the_end_with_chosen_input():
    result = _run("mediation_v2", [
        {"complete": "register", "data": {"category": "labour", "summary": "欠薪"}},
        {"advance": "P3D"},
        {"complete": "mediate", "data": {"outcome": "agreed"}},
        {"complete": "record_agreement", "data": {"agreement_no": "XY-1"}},
    ])
    assert result.error is None and result.completed
    assert _path(result) == [("start", "completed"), ("register", "completed"),
                             ("mediate", "completed"), ("deadline_15d", "cancelled"),
                             ("record_agreement", "completed"),
                             ("end_done", "completed")]
    assert result.data["agreement_no"] == "XY-1" and result.data["case_no"] == "C-TEST"
    assert result.path[2].at == (MONDAY_9 + timedelta(days=3)).isoformat()
    assert result.fired_timers == [] and result.armed_timers == []


def test_waiting_shows_the_armed_timer_and_the_next_choice():
    result = _run("mediation_v1", [{"complete": "register", "data": {"category": "neighbour"}}])
    assert not result.completed
    assert result.armed_timers == [{"element_id": "deadline_15d", "name": "15日期限",
                                    "due": "2025-03-18T01:00:00+00:00"}]
    [ready] = result.ready_tasks
    assert ready["element_id"] == "mediate" and ready["due_at"] == "2025-03-18T01:00:00+00:00"
    assert [f["id"] for f in ready["form"]] == ["outcome"]
    assert ready["form"][0]["options"] == [["agreed", "达成协议"], ["failed", "未达成"]]
    assert result.element_states() == {"completed": ["register", "start"],
                                       "current": ["deadline_15d", "mediate"]}


def test_advancing_past_the_deadline_fires_the_timer_and_cancels_the_task():
    result = _run("mediation_v1", [{"complete": "register", "data": {"category": "labour"}},
                                   {"advance": "P14D"}, {"advance": "next_timer"}])
    assert result.error is None
    assert [t["element_id"] for t in result.fired_timers] == ["deadline_15d"]
    assert result.fired_timers[0]["at"] == "2025-03-18T01:00:01+00:00"
    assert ("mediate", "cancelled") in _path(result)
    assert [t["element_id"] for t in result.ready_tasks] == ["refer_arbitration"]


def test_a_day_before_the_deadline_nothing_fires():
    result = _run("mediation_v1", [{"complete": "register", "data": {"category": "labour"}},
                                   {"advance": "P14D"}])
    assert result.fired_timers == []
    assert [t["element_id"] for t in result.ready_tasks] == ["mediate"]


def test_invalid_input_stops_with_field_errors_and_keeps_the_state_before_it():
    result = _run("mediation_v1", [{"complete": "register", "data": {"category": "burglary"}}])
    assert result.error["action"] == 1
    assert set(result.error["field_errors"]) == {"category"}
    assert result.actions_applied == 0
    assert [t["element_id"] for t in result.ready_tasks] == ["register"]


def test_completing_a_task_that_is_not_ready_is_reported_with_its_element():
    result = _run("mediation_v1", [{"complete": "mediate", "data": {"outcome": "agreed"}}])
    assert result.error["element_id"] == "mediate"


def test_decision_table_outputs_drive_the_timer():
    files = {"routed.bpmn": (PROCESSES / "routed.bpmn").read_bytes(),
             "routing.dmn": (PROCESSES / "routing_v1.dmn").read_bytes()}
    labour = _run("", [{"complete": "classify", "data": {"category": "labour"}}],
                  process_id="routed", b=compile_bundle(files))
    assert labour.data["tier"] == "district"
    assert labour.armed_timers[0]["due"] == "2025-03-03T03:00:00+00:00"  # PT2H
    other = _run("", [{"complete": "classify", "data": {"category": "family"}},
                      {"advance": "next_timer"}], process_id="routed", b=compile_bundle(files))
    assert other.data["response_deadline"] == "working_days(1)"
    assert [t["element_id"] for t in other.fired_timers] == ["sign_off_deadline"]
    assert {t["element_id"] for t in other.ready_tasks} == {"sign_off", "supervise"}


def test_the_clock_cannot_go_back():
    result = _run("mediation_v1", [{"advance_to": "2025-03-01T00:00:00+08:00"}])
    assert "back" in result.error["message"]
