"""Engine paths on fixture diagrams: gateways, multi-instance, call activity, DMN, timers, errors,
escalations and messages, all under a controlled clock."""

from __future__ import annotations

import pytest

from engine.errors import MessageNotExpected, TaskNotReady


def names(instance) -> list[str]:
    return sorted(t.bpmn_id for t in instance.ready_tasks())


def finish_dispatch(instance) -> None:
    for task in instance.ready_tasks():
        if task.bpmn_id == "co_handle":
            instance.complete(task.id, {"opinion": f"{task.data['dept']} 同意"})
        elif task.bpmn_id in ("lead_joint", "lead_handle"):
            instance.complete(task.id, {"lead_result": "已办结"} if task.bpmn_id == "lead_joint" else {})


def test_dmn_routes_collective_labour_to_joint_dispatch(start):
    instance = start(category="labour", people_count=12)
    assert instance.latest_data()["lead_department"] == "RS"
    assert names(instance) == ["co_handle", "co_handle", "lead_joint"]
    depts = sorted(t.data["dept"] for t in instance.ready_tasks() if t.bpmn_id == "co_handle")
    assert depts == ["GA", "ZJ"]


def test_dmn_question_mark_range_and_catch_all(start):
    assert start(category="neighbour", people_count=3).latest_data()["lead_department"] == "SF"
    single = start(category="neighbour", people_count=1)
    assert single.latest_data()["lead_department"] == "JD"
    assert names(single) == ["lead_handle"]          # exclusive gateway took the default flow


def test_multi_instance_collects_each_department_result_in_any_order(start):
    for order in (0, 1):
        instance = start(category="labour", people_count=12)
        co = [t for t in instance.ready_tasks() if t.bpmn_id == "co_handle"]
        for task in (co if order == 0 else list(reversed(co))):
            instance.complete(task.id, {"opinion": f"{task.data['dept']} 同意"})
        lead = instance.find_ready("lead_joint")
        instance.complete(lead.id, {"lead_result": "已办结"})
        # SpiffWorkflow 3.2 collects outputs in completion order: results name their department
        assert sorted(instance.latest_data()["co_results"]) == ["GA 同意", "ZJ 同意"]
        assert names(instance) == ["mediate"]        # parallel join passed, call activity entered


def test_interrupting_deadline_from_dmn_cancels_task_and_escalates(start, engine_clock):
    instance = start(category="labour", people_count=12)
    finish_dispatch(instance)
    mediate = instance.find_ready("mediate")
    assert mediate.due_at.isoformat() == "2025-03-03T03:00:00+00:00"   # PT2H from the DMN
    engine_clock.advance(hours=2, seconds=1)
    with pytest.raises(TaskNotReady):                # a late submission loses to the deadline
        instance.complete(mediate.id, {"outcome": "agreed"})
    assert names(instance) == ["escalate_review"]


def test_non_interrupting_cycle_reminder_keeps_task_ready(start, engine_clock):
    instance = start(category="neighbour", people_count=1)
    finish_dispatch(instance)
    assert instance.due_at.isoformat() == "2025-03-03T02:00:00+00:00"  # first reminder, R3/PT1H
    engine_clock.advance(hours=1, seconds=1)
    instance.fire_timers()
    assert names(instance) == ["mediate"]
    assert instance.due_at.isoformat() == "2025-03-03T03:00:00+00:00"  # the next occurrence


def test_working_day_deadline_skips_the_weekend(start, engine_clock):
    instance = start(category="neighbour", people_count=5)        # working_days(2) from the DMN
    finish_dispatch(instance)
    # Monday 09:00 Beijing + 2 working days -> end of Wednesday = Thursday 00:00 +08:00
    assert instance.find_ready("mediate").due_at.isoformat() == "2025-03-05T16:00:00+00:00"


def test_error_end_event_is_caught_by_boundary(start):
    instance = start(category="neighbour", people_count=1)
    finish_dispatch(instance)
    instance.complete(instance.find_ready("mediate").id, {"outcome": "refer"})
    assert names(instance) == ["refer"]
    instance.complete(instance.find_ready("refer").id, {})
    assert instance.is_completed()


def test_escalation_is_caught_without_interrupting_and_message_reply_decides(start):
    instance = start(category="neighbour", people_count=1)
    finish_dispatch(instance)
    instance.complete(instance.find_ready("mediate").id, {"outcome": "alert"})
    assert names(instance) == ["note_alert"]
    assert instance.waiting_messages() == ["party_reply"]
    instance.deliver_message("party_reply", {"accepted": True})
    instance.complete(instance.find_ready("note_alert").id, {})
    assert instance.is_completed()
    assert instance.data["reply"] == {"accepted": True}


def test_message_nobody_waits_for_is_refused(start):
    instance = start(category="neighbour", people_count=1)
    with pytest.raises(MessageNotExpected):
        instance.deliver_message("party_reply", {"accepted": True})


def test_round_trip_keeps_state_restricted_engine_and_timers(start, serializer, script_engine):
    from engine.instance import WorkflowInstance
    from engine.script_engine import JiefenScriptEngine

    instance = start(category="labour", people_count=12)
    instance.workflow.spec_version = "1:paths"
    finish_dispatch(instance)
    text = instance.dump(serializer)
    assert '"spec"' not in text[:200] and "spec_version" in text     # spec stored by reference
    loaded = WorkflowInstance.load(text, serializer)
    assert type(loaded.workflow.script_engine) is JiefenScriptEngine
    assert loaded.workflow.script_engine is script_engine
    assert loaded.state_digest() == instance.state_digest()
    assert loaded.due_at == instance.due_at
    assert names(loaded) == ["mediate"]


def test_task_view_lists_deadline_and_reminders(start):
    instance = start(category="neighbour", people_count=1)
    finish_dispatch(instance)
    timers = instance.find_ready("mediate").timers
    assert [(t.bpmn_id, t.interrupting) for t in timers] == [("reminder", False), ("deadline", True)]
    assert timers[0].due_at.isoformat() == "2025-03-03T02:00:00+00:00"
