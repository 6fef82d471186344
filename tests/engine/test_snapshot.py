"""The state digest (engine/instance.py) is written as it always was: old events carry digests that
replay compares. Here it is checked against the digest computed the first way, row by row, along
steps, fired timers, compaction, a reset and a migration; so are depth, completion and the
diagram's elements."""

from __future__ import annotations

import hashlib
import json
from uuid import UUID

from SpiffWorkflow import TaskState

from engine.clock import use_clock
from engine.compaction import summary
from engine.instance import WorkflowInstance
from engine.migration import migrate, plan_migration
from tests.engine.test_engine_paths import finish_dispatch
from tests.process_fixtures import MONDAY_9, bundle, script_engine, serializer

FINISHED = TaskState.COMPLETED | TaskState.CANCELLED
LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR | FINISHED


def first_way(instance: WorkflowInstance) -> tuple[str, int, bool]:
    """Digest, deepest live task and completion as first written: one list per task, sorted."""
    rows, depth = [], 0
    for workflow in (instance.workflow, *instance.workflow.subprocesses.values()):
        process = workflow.spec.name
        for task in workflow.tasks.values():
            name = TaskState.get_name(task.state)
            if task.state & FINISHED:
                rows.append([process, task.task_spec.name, "", name, ""])
            elif task.state & LIVE:
                depth = max(depth, task.depth)
                info = task.task_spec.task_info(task)
                info = {k: v for k, v in info.items() if k != "instance_map"}
                rows.append([process, task.task_spec.name,
                             json.dumps(info, sort_keys=True, default=str), name,
                             _hash(task.data)])
    for process, spec, _bpmn_id, state, count in summary(instance.workflow)["rows"]:
        if TaskState.get_value(state) & FINISHED:
            rows.extend([process, spec, "", state, ""] for _ in range(count))
    rows.sort()
    timers = instance.armed_timers()
    blob = json.dumps({"tasks": rows, "timers": sorted(d.isoformat() for _, d in timers),
                       "data": _hash(instance.workflow.data)}, sort_keys=True, ensure_ascii=False)
    return (hashlib.sha256(blob.encode("utf-8")).hexdigest(), depth,
            instance.workflow.is_completed())


def _hash(data: dict) -> str:
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def elements_first_way(instance: WorkflowInstance) -> dict:
    """The diagram's completed and current elements as first read: through the library's
    iterator (compacted rows come from the summary either way)."""
    out: dict = {}
    for task in instance.workflow.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if bpmn_id:
            entry = out.setdefault(task.workflow.spec.name, {"completed": set(), "current": set()})
            if task.state == TaskState.COMPLETED:
                entry["completed"].add(bpmn_id)
            elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                entry["current"].add(bpmn_id)
    for process, _spec, bpmn_id, state, _count in summary(instance.workflow)["rows"]:
        if bpmn_id and state == "COMPLETED":
            out.setdefault(process, {"completed": set(), "current": set()})["completed"].add(bpmn_id)
    return {p: {k: sorted(v) for k, v in e.items()} for p, e in out.items()}


def same(instance: WorkflowInstance) -> None:
    snap = instance.snapshot()
    assert (snap.digest, snap.max_depth, snap.completed) == first_way(instance)
    elements = elements_first_way(instance)
    assert instance.element_states() == elements
    assert instance.current_processes() == {p for p, e in elements.items() if e["current"]}


def test_the_digest_is_the_first_ways_along_a_case(start, serializer):
    instance = start(category="labour", people_count=12, note="集体劳动争议")
    instance.workflow.spec_version = "1:paths"
    same(instance)                                    # multi-instance children ready
    finish_dispatch(instance)
    same(instance)                                    # in the call activity, deadline armed
    instance.complete(instance.find_ready("mediate").id, {"outcome": "alert"})
    same(instance)                                    # the call finished, a reply awaited
    before = instance.state_digest()
    assert instance.compact() >= 1                    # the finished call activity goes
    instance.forget_derived()
    same(instance)
    assert instance.state_digest() == before
    loaded = WorkflowInstance.load(instance.dump(serializer), serializer)
    same(loaded)
    assert loaded.state_digest() == before
    loaded.deliver_message("party_reply", {"accepted": True})
    same(loaded)
    loaded.complete(loaded.find_ready("note_alert").id, {})
    same(loaded)
    assert loaded.snapshot().completed and loaded.is_completed()


def test_the_digest_is_the_first_ways_when_a_deadline_fires(start, engine_clock):
    instance = start(category="labour", people_count=12)
    finish_dispatch(instance)
    engine_clock.advance(hours=2, seconds=1)
    instance.fire_timers()
    same(instance)                                    # the deadline fired and escalated
    assert [t.bpmn_id for t in instance.ready_tasks()] == ["escalate_review"]


def test_the_digest_is_the_first_ways_after_a_reset(start):
    instance = start(category="neighbour", people_count=1, note="邻里纠纷")
    handle = instance.find_ready("lead_handle")
    instance.complete(handle.id, {})
    same(instance)
    instance.workflow.reset_from_task_id(UUID(handle.id))   # back to the completed task
    instance.forget_derived()
    same(instance)
    assert [t.bpmn_id for t in instance.ready_tasks()] == ["lead_handle"]


def test_the_digest_is_the_first_ways_after_a_migration():
    engine = script_engine()
    with use_clock(lambda: MONDAY_9):
        instance = WorkflowInstance.start(bundle("mediation_v1"), "mediation", script_engine=engine,
                                          spec_version="1:mediation")
        instance.complete(instance.find_ready("register").id, {"category": "labour"})
        same(instance)
        new = bundle("mediation_v2")
        plan = plan_migration(instance, serializer().registry, new.spec("mediation"),
                              new.subprocess_specs("mediation"))
        migrate(instance, plan, "2:mediation")
        same(instance)
        instance.advance()
        instance.complete(instance.find_ready("mediate").id, {"outcome": "agreed"})
        same(instance)
