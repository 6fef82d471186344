"""jiefen's engine steps (engine/walks.py) run the tasks the library's would, in the same order:
at every walk along cases of the fixture process (gateways, multi-instance, a call activity,
boundary timers) the ready tasks found are the library's list, and a step run both ways from the
same saved state runs the same tasks and ends in the same state."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow

from engine import walks
from engine.instance import WorkflowInstance
from tests.engine.test_engine_paths import finish_dispatch

ANSWERS = {"opinion": "同意", "lead_result": "已办结", "outcome": "agreed"}


def library_ready(wf) -> list:
    return [t for t in wf.get_tasks(state=TaskState.READY) if not t.task_spec.manual]


@pytest.fixture
def checked_walks(monkeypatch):
    """Every walk of a step compared with the library's; returns how many were compared (and
    how many found something to run)."""
    seen = {"walks": 0, "found": 0, "in_sub_process": 0}
    fast = walks.ready_engine_tasks

    def compared(wf, top):
        found = fast(wf, top)
        assert [t.id for t in found] == [t.id for t in library_ready(wf)]
        seen["walks"] += 1
        seen["found"] += bool(found)
        seen["in_sub_process"] += wf is not top
        return found

    monkeypatch.setattr(walks, "ready_engine_tasks", compared)
    return seen


@pytest.mark.parametrize("category,people", [("labour", 12), ("neighbour", 1), ("neighbour", 3)])
def test_each_walk_finds_the_library_list(start, engine_clock, checked_walks, category, people):
    instance = start(category=category, people_count=people, note="当事人同意调解")
    stages = 0
    while (ready := instance.ready_tasks()) and stages < 8:
        instance.complete(ready[0].id, ANSWERS)
        stages += 1
    assert stages >= 2
    assert checked_walks["found"] >= stages and checked_walks["walks"] > checked_walks["found"]


def test_walks_inside_a_called_process_and_after_timers_fire(start, engine_clock,
                                                             checked_walks):
    instance = start(category="labour", people_count=12)
    finish_dispatch(instance)                   # multi-instance and the call activity
    engine_clock.advance(hours=2, seconds=1)
    instance.fire_timers()                      # the deadline fires and escalates
    assert checked_walks["in_sub_process"] > 0


def _run(serializer, state: str, task_id: str, library: bool) -> tuple[list, WorkflowInstance]:
    """Complete a task of the saved state and run the engine: with the library alone (the state
    loaded by the serializer, not as an instance), or as jiefen's instance does."""
    workflow = serializer.deserialize_json(state)
    if not library:
        walks.quicken(workflow)
    ran: list = []
    task = workflow.get_task_from_id(UUID(task_id))
    task.set_data(**ANSWERS)
    task.run()
    if library:
        workflow.do_engine_steps(will_complete_task=ran.append)
    else:
        walks.do_engine_steps(workflow, will_complete_task=ran.append)
    return [t.task_spec.name for t in ran], WorkflowInstance(workflow)


@pytest.mark.parametrize("category,people", [("labour", 12), ("neighbour", 3)])
def test_a_step_runs_the_same_tasks_in_the_same_order_as_the_library(start, serializer,
                                                                      engine_clock, category,
                                                                      people):
    instance = start(category=category, people_count=people)
    instance.workflow.spec_version = "1:paths"
    stages = ran = 0
    while (ready := instance.ready_tasks()) and stages < 6:
        state = instance.dump(serializer)
        for view in ready:
            theirs, library = _run(serializer, state, view.id, library=True)
            ours, fast = _run(serializer, state, view.id, library=False)
            assert ours == theirs
            ran += len(ours)
            assert fast.state_digest() == library.state_digest()
            assert [(t.bpmn_id, t.data) for t in fast.ready_tasks()] == \
                [(t.bpmn_id, t.data) for t in library.ready_tasks()]
        instance.complete(ready[0].id, ANSWERS)
        stages += 1
    assert stages >= 2 and ran > stages


def test_a_step_past_its_deadline_runs_as_the_library_runs_it(start, serializer, engine_clock,
                                                              monkeypatch):
    updated: list = []
    walk = walks.update_waiting
    monkeypatch.setattr(walks, "update_waiting", lambda wf: updated.append(wf) or walk(wf))
    instance = start(category="labour", people_count=12)
    instance.workflow.spec_version = "1:paths"
    finish_dispatch(instance)                  # the deadline and a reminder are armed
    state = instance.dump(serializer)
    engine_clock.advance(hours=2, seconds=1)   # both due when a completion updates them
    for view in instance.ready_tasks():
        theirs, library = _run(serializer, state, view.id, library=True)
        ours, fast = _run(serializer, state, view.id, library=False)
        assert ours == theirs
        assert fast.state_digest() == library.state_digest()
        assert [t.bpmn_id for t in fast.ready_tasks()] == [t.bpmn_id for t in library.ready_tasks()]
    assert ours and updated


def test_a_tree_beyond_the_iterator_depth_is_walked_by_the_library(start, monkeypatch):
    instance = start(category="labour", people_count=12)
    asked = []
    original = type(instance.workflow).get_tasks

    def get_tasks(self, *args, **kwargs):
        asked.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(walks, "MAX_TASKS", 10)
    monkeypatch.setattr(type(instance.workflow), "get_tasks", get_tasks)
    assert walks.ready_engine_tasks(instance.workflow, instance.workflow) == \
        library_ready(instance.workflow)
    assert {"state": TaskState.READY} in asked


def test_sub_processes_started_in_a_step_skip_the_idle_waiting_walk_too(start, engine_clock,
                                                                         monkeypatch):
    walked: list = []
    walk = walks.update_waiting

    def update_waiting(wf):
        walked.append(any(t.state == TaskState.WAITING for t in wf.tasks.values()))
        walk(wf)

    monkeypatch.setattr(walks, "update_waiting", update_waiting)
    instance = start(category="labour", people_count=12)
    finish_dispatch(instance)                    # the call activity's process starts and ends
    subs = list(instance.workflow.subprocesses.values())
    assert subs and all("update_waiting_tasks" in vars(sp) for sp in subs)
    assert walked and all(walked)                # walked only where something waits
    plain = type(instance.workflow)(instance.workflow.spec, instance.workflow.subprocess_specs)
    assert "update_waiting_tasks" not in vars(plain)   # the library's class is untouched


def test_waiting_tasks_are_updated_in_the_library_order(start, serializer, engine_clock,
                                                        monkeypatch):
    instance = start(category="labour", people_count=12)
    instance.workflow.spec_version = "1:paths"
    finish_dispatch(instance)                  # the deadline and a reminder wait together
    state = instance.dump(serializer)
    engine_clock.advance(hours=2, seconds=1)
    updated: list = []
    for workflow in (instance.workflow, *instance.workflow.subprocesses.values()):
        for spec in workflow.spec.task_specs.values():
            update = spec._update
            monkeypatch.setattr(spec, "_update",
                                lambda task, update=update: updated.append(task.task_spec.name) or
                                update(task))
    orders = []
    for library in (True, False):
        workflow = serializer.deserialize_json(state)
        for each in (workflow, *workflow.subprocesses.values()):
            updated.clear()
            if library:
                type(each).update_waiting_tasks(each)
            else:
                walks.update_waiting(each)
            orders.append(list(updated))
    half = len(orders) // 2
    assert orders[:half] == orders[half:]
    assert max(len(order) for order in orders) >= 2


def test_the_installed_library_is_the_one_the_walks_copy():
    """A SpiffWorkflow release (setup.cfg allows any 3.2.x) whose copied functions changed fails
    here: engine/walks.py has to be compared with the new code and LIBRARY_SOURCES renewed."""
    assert walks.library_sources() == walks.LIBRARY_SOURCES
    assert walks.library_unchanged()


@pytest.fixture
def changed_library(monkeypatch):
    """The library's iterator replaced by code of another text (as a patch release might)."""
    from SpiffWorkflow.util.task import TaskIterator

    original = TaskIterator._next

    def _next(self):
        return original(self)

    monkeypatch.setattr(TaskIterator, "_next", _next)
    walks.library_unchanged.cache_clear()
    yield
    walks.library_unchanged.cache_clear()


def test_a_changed_library_runs_its_own_engine_steps(start, engine_clock, changed_library,
                                                     monkeypatch):
    assert walks.library_sources()["TaskIterator._next"] != \
        walks.LIBRARY_SOURCES["TaskIterator._next"]
    copied: list = []
    monkeypatch.setattr(walks, "ready_engine_tasks", lambda *a: copied.append(a) or [])
    instance = start(category="labour", people_count=12)
    assert "update_waiting_tasks" not in vars(instance.workflow)   # not quickened
    ready = instance.ready_tasks()
    instance.complete(ready[0].id, ANSWERS)
    assert not copied and instance.ready_tasks() != ready     # the library's steps ran


EVENTS_BPMN = Path(__file__).resolve().parent.parent / "fixtures" / "bpmn" / "walk_events.bpmn"


def _events_run(actions: list[str], fast: bool) -> tuple[list[str], list, bool]:
    """walk_events.bpmn (an error ending a sub-process caught on its boundary, an event-based
    gateway, a standard loop, a parallel multi-instance, a signal cancelling a sub-process and
    a terminate end event; plain SpiffWorkflow, script tasks), saved and loaded after the first
    steps, then driven by ``actions``: the tasks run, in order, and every task's final state."""
    from SpiffWorkflow.bpmn import BpmnEvent
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.specs.event_definitions import (
        MessageEventDefinition,
        SignalEventDefinition,
    )

    parser = BpmnParser()
    parser.add_bpmn_file(str(EVENTS_BPMN))
    workflow = BpmnWorkflow(parser.get_spec("P"), parser.get_subprocess_specs("P"))
    ran: list[str] = []

    def steps(wf) -> None:
        def note(task):
            ran.append(task.task_spec.bpmn_id or task.task_spec.name)
        if fast:
            walks.do_engine_steps(wf, will_complete_task=note)
        else:
            wf.do_engine_steps(will_complete_task=note)

    steps(workflow)
    serializer = BpmnWorkflowSerializer()
    workflow = serializer.deserialize_json(serializer.serialize_json(workflow))
    if fast:
        walks.share_ids(workflow)
        walks.quicken(workflow)
    events = {"message": MessageEventDefinition("m"), "signal": SignalEventDefinition("s")}
    for action in actions:
        ran.append(f"| {action}")
        if action in events:
            workflow.send_event(BpmnEvent(events[action]))
        else:
            task, = [t for t in workflow.get_tasks(state=TaskState.READY)
                     if t.task_spec.bpmn_id == action]
            task.run()
        steps(workflow)
    states = sorted((t.task_spec.name, t.state)
                    for wf in (workflow, *workflow.subprocesses.values())
                    for t in wf.tasks.values())
    return ran, states, workflow.completed


@pytest.mark.parametrize("actions", [
    ["after_err", "u_c", "message", "s2_user"],
    ["u_c", "signal"],
    ["signal"],
    ["message", "u_c", "signal"],
    ["u_c", "s2_user", "message", "after_err"],
])
def test_events_loops_and_terminate_run_as_the_library_runs_them(actions):
    theirs = _events_run(actions, fast=False)
    assert _events_run(actions, fast=True) == theirs
    assert len(theirs[0]) > 10 + len(actions)
