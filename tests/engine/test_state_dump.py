"""The state text jiefen saves (engine/state_dump.py) is the library's serialization, written
faster: it reads back as the same document, states saved before in the library's own format still
load, and data the fast writer would write differently is written as before."""

from __future__ import annotations

import enum
import json
from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.errors import TaskNotReady
from engine.instance import WorkflowInstance
from tests.engine.test_engine_paths import finish_dispatch, names


def same_document(instance: WorkflowInstance, serializer) -> None:
    saved = instance.dump(serializer)
    assert json.loads(saved) == json.loads(serializer.serialize_json(instance.workflow))


def test_states_along_a_case_read_back_as_the_library_writes_them(start, serializer,
                                                                     engine_clock):
    instance = start(category="labour", people_count=12, note="当事人同意调解")
    instance.workflow.spec_version = "1:paths"
    same_document(instance, serializer)            # multi-instance, call activity, DMN result
    finish_dispatch(instance)
    same_document(instance, serializer)            # armed deadline and reminder
    engine_clock.advance(hours=2, seconds=1)
    instance.fire_timers()
    same_document(instance, serializer)            # the deadline fired and escalated
    loaded = WorkflowInstance.load(instance.dump(serializer), serializer)
    assert loaded.state_digest() == instance.state_digest()
    assert names(loaded) == names(instance) == ["escalate_review"]


def test_a_state_saved_in_the_library_format_loads_and_goes_on(start, serializer):
    instance = start(category="neighbour", people_count=1, note="邻里纠纷")
    instance.workflow.spec_version = "1:paths"
    finish_dispatch(instance)
    old_text = serializer.serialize_json(instance.workflow)   # as states were saved until now
    assert "\\u" in old_text and '": ' in old_text

    loaded = WorkflowInstance.load(old_text, serializer)

    assert loaded.state_digest() == instance.state_digest()
    assert loaded.latest_data()["note"] == "邻里纠纷"
    loaded.complete(loaded.find_ready("mediate").id, {"outcome": "agreed"})
    again = WorkflowInstance.load(loaded.dump(serializer), serializer)
    assert again.state_digest() == loaded.state_digest()


class Colour(enum.Enum):
    RED = "red"


def _with_value(start, value) -> tuple[WorkflowInstance, UUID]:
    instance = start(category="neighbour", people_count=1)
    instance.workflow.spec_version = "1:paths"
    task = instance.workflow.get_task_from_id(UUID(instance.ready_tasks()[0].id))
    task.data["value"] = value
    return instance, task.id


@pytest.mark.parametrize("value", [
    UUID("12345678-1234-5678-1234-567812345678"),   # orjson: a bare string, not a typed object
    float("nan"), float("inf"),                      # orjson: null
    2 ** 70,                                         # beyond orjson's 64 bits
    {1: "一"},                                       # a key that is not text
    "x\ud800",                                      # a lone surrogate: orjson refuses it
])
def test_values_the_fast_writer_would_change_are_written_by_the_library(start, serializer, value):
    instance, _ = _with_value(start, value)
    assert instance.dump(serializer) == serializer.serialize_json(instance.workflow)


@pytest.mark.parametrize("value", [date(2025, 3, 3), Decimal("12.50"), {"甲", "乙"}])
def test_typed_values_read_back_as_the_library_writes_them(start, serializer, value):
    instance, task_id = _with_value(start, value)
    saved = instance.dump(serializer)
    assert json.loads(saved) == json.loads(serializer.serialize_json(instance.workflow))
    back = WorkflowInstance.load(saved, serializer).workflow.get_task_from_id(task_id)
    if isinstance(value, set):      # written as a list, as the library does
        assert sorted(back.data["value"]) == sorted(value)
    else:
        assert back.data["value"] == value


class Level(enum.StrEnum):
    URGENT = "紧急"


class Rank(enum.IntEnum):
    HIGH = 3


@pytest.mark.parametrize("value,plain", [
    (Level.URGENT, "紧急"), (Rank.HIGH, 3),
    ({"levels": [Level.URGENT], "rank": Rank.HIGH}, {"levels": ["紧急"], "rank": 3}),
])
def test_str_and_int_enums_are_written_fast_as_their_plain_values(start, serializer, value,
                                                                  plain):
    instance, task_id = _with_value(start, value)
    saved = instance.dump(serializer)
    assert json.loads(saved) == json.loads(serializer.serialize_json(instance.workflow))
    assert "\\u" not in saved        # orjson's text, not the library's escaped one
    instance.workflow.get_task_from_id(task_id).data["value"] = plain
    assert instance.dump(serializer) == saved   # the same text as for the plain value


def test_events_thrown_out_of_the_process_are_written_fast_as_the_library_writes_them(
        start, serializer):
    instance = start(category="neighbour", people_count=1, note="邻里纠纷")
    instance.workflow.spec_version = "1:paths"
    instance.workflow.bpmn_events = [
        BpmnEvent(TerminateEventDefinition()),
        BpmnEvent(MessageEventDefinition("reply"), payload={"day": date(2025, 3, 3), "n": 1})]
    saved = instance.dump(serializer)
    assert json.loads(saved) == json.loads(serializer.serialize_json(instance.workflow))
    assert "\\u" not in saved
    loaded = WorkflowInstance.load(saved, serializer)
    assert [e.payload for e in loaded.workflow.bpmn_events] == [None, {"day": date(2025, 3, 3),
                                                                     "n": 1}]
    instance.workflow.bpmn_events[1].payload["n"] = float("nan")   # orjson would write null
    assert instance.dump(serializer) == serializer.serialize_json(instance.workflow)


def test_a_value_the_library_refuses_is_refused(start, serializer):
    instance, _ = _with_value(start, Colour.RED)
    with pytest.raises(TypeError):
        serializer.serialize_json(instance.workflow)
    with pytest.raises(TypeError):
        instance.dump(serializer)


def test_a_deadline_fired_at_the_end_of_a_step_still_beats_the_late_submission(
        start, serializer, engine_clock):
    instance = start(category="labour", people_count=12)
    instance.workflow.spec_version = "1:paths"
    finish_dispatch(instance)
    mediate = instance.find_ready("mediate")
    engine_clock.advance(hours=2, seconds=1)
    instance.advance()        # the engine's last act marks the deadline ready, it runs next step
    loaded = WorkflowInstance.load(instance.dump(serializer), serializer)

    with pytest.raises(TaskNotReady):
        loaded.complete(mediate.id, {"outcome": "agreed"})
    assert names(loaded) == ["escalate_review"]


@pytest.mark.parametrize("category,people", [("labour", 12), ("neighbour", 1), ("neighbour", 3)])
def test_ready_tasks_come_in_the_library_order_at_every_stage(start, category, people):
    instance = start(category=category, people_count=people)
    stages = 0
    while (ready := instance.ready_tasks()) and stages < 6:
        library = instance.workflow.get_tasks(state=TaskState.READY, manual=True)
        assert [t.id for t in ready] == [str(t.id) for t in library]
        task = ready[0]
        instance.complete(task.id, {"opinion": "同意", "lead_result": "已办结", "outcome": "agreed"})
        stages += 1
    assert stages >= 2


def test_ids_written_from_the_last_save_follow_tasks_that_changed_their_ids(start, serializer):
    """The writer keeps each id's text from the last save, by the id object: a workflow whose
    tasks all got new ids since (new objects, new values) is written with the new ones."""
    from uuid import uuid4

    instance = start(category="neighbour", people_count=1, note="邻里纠纷")
    instance.workflow.spec_version = "1:paths"
    instance.dump(serializer)                       # texts kept for these ids
    workflow = instance.workflow
    new = {old: uuid4() for old in workflow.tasks}
    for task in workflow.tasks.values():
        task.id = new[task.id]
        task._parent = new.get(task._parent, task._parent)
        task._children = [new[c] for c in task._children]
    workflow.tasks = {task.id: task for task in workflow.tasks.values()}
    saved = instance.dump(serializer)
    assert json.loads(saved) == json.loads(serializer.serialize_json(workflow))
    assert str(next(iter(new.values()))) in saved and str(next(iter(new))) not in saved
