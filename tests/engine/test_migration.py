"""Migrating running instances between spec versions: the safe rule and timers that keep their due time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow

from engine.clock import FrozenClock, use_clock
from engine.instance import WorkflowInstance
from engine.migration import RESET_MASK, MigrationRefused, migrate, plan_migration
from engine.specs import compile_bundle
from tests.process_fixtures import MONDAY_9, PROCESSES, bundle, script_engine, serializer

DUE_15D = datetime.fromisoformat("2025-03-18T01:00:00+00:00")


@pytest.fixture
def clock():
    return FrozenClock(MONDAY_9)


@pytest.fixture
def engine():
    return script_engine()


def _at_mediate(engine, clock):
    """A v1 case whose registration is done and whose 15-day deadline is running."""
    with use_clock(clock.now):
        instance = WorkflowInstance.start(bundle("mediation_v1"), "mediation", script_engine=engine,
                                          spec_version="1:mediation")
        instance.complete(instance.find_ready("register").id, {"category": "labour"})
    return instance


def _plan(instance, new):
    ser = serializer()
    return plan_migration(instance, ser.registry, new.spec(new.top_process_ids[0]),
                          new.subprocess_specs(new.top_process_ids[0]))


def test_added_step_after_the_current_task_is_safe_and_listed(engine, clock):
    instance = _at_mediate(engine, clock)
    plan = _plan(instance, bundle("mediation_v2"))
    assert plan.safe and plan.possible
    assert plan.added == ["record_agreement"]
    assert plan.changed["mediate"] == ["outputs"]
    assert plan.blocking == [] and plan.removed == []


def _edited(*replacements: tuple[str, str]):
    """mediation v1 with text replaced (each replacement must apply)."""
    text = (PROCESSES / "mediation_v1.bpmn").read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return compile_bundle({"mediation.bpmn": text})


OPTIONAL_FIELD = ('<camunda:formField id="summary" label="摘要" type="string"/>',
                  '<camunda:formField id="summary" label="摘要" type="string"/>'
                  '<camunda:formField id="people_count" label="涉及人数" type="long"/>')


def test_a_required_field_added_to_a_completed_task_is_unsafe_and_names_it(engine, clock):
    instance = _at_mediate(engine, clock)
    plan = _plan(instance, bundle("mediation_v3"))  # v3: a required field on 'register'
    assert not plan.safe
    assert plan.blocking == ["register"]
    assert "extensions" in plan.changed["register"] and plan.wording == []


def test_an_optional_field_added_to_a_completed_task_is_safe(engine, clock):
    plan = _plan(_at_mediate(engine, clock), _edited(OPTIONAL_FIELD))
    assert plan.safe and plan.blocking == [] and plan.wording == ["register"]


def test_words_are_safe_anywhere_guidance_labels_names_and_option_names(engine, clock):
    plan = _plan(_at_mediate(engine, clock), _edited(
        ("请在 15 日内组织调解。", "请在 15 日内组织调解，并告知双方权利义务。"),  # guidance
        ('label="纠纷类型"', 'label="纠纷类别"'),                             # field label
        ('name="邻里纠纷"', 'name="邻里之间的纠纷"'),                          # option name
        ('name="登记纠纷"', 'name="登记纠纷事项"'),                            # element name
        ('name="15日期限"', 'name="十五日期限"')))                             # timer label
    assert plan.safe, plan.summary()
    assert plan.wording == ["deadline_15d", "mediate", "register"]
    assert plan.blocking == []


def test_a_removed_or_renamed_waiting_element_is_unsafe(engine, clock):
    renamed = _edited(*[(f'{attr}="mediate"', f'{attr}="mediate_case"') for attr in
                        ("id", "targetRef", "attachedToRef")],
                      ("<bpmn:flowNodeRef>mediate</bpmn:flowNodeRef>",
                       "<bpmn:flowNodeRef>mediate_case</bpmn:flowNodeRef>"),
                      ('sourceRef="mediate"', 'sourceRef="mediate_case"'),
                      ('bpmnElement="mediate"', 'bpmnElement="mediate_case"'))
    plan = _plan(_at_mediate(engine, clock), renamed)
    assert not plan.safe and "mediate" in plan.blocking


def test_a_changed_option_value_of_a_completed_task_is_unsafe(engine, clock):
    plan = _plan(_at_mediate(engine, clock), _edited(('id="neighbour"', 'id="neighbours"')))
    assert not plan.safe and plan.blocking == ["register"]


def test_the_same_change_is_safe_for_a_case_that_has_not_reached_it(engine, clock):
    with use_clock(clock.now):
        fresh = WorkflowInstance.start(bundle("mediation_v1"), "mediation", script_engine=engine)
    assert _plan(fresh, bundle("mediation_v3")).safe


def test_migrated_case_keeps_its_timer_due_time_and_takes_the_new_step(engine, clock):
    instance = _at_mediate(engine, clock)
    assert instance.due_at == DUE_15D
    clock.advance(days=4, hours=5)
    plan = _plan(instance, bundle("mediation_v2"))
    with use_clock(clock.now):
        migrate(instance, plan, "2:mediation")
        instance.advance()
        assert instance.spec_version == "2:mediation"
        assert instance.due_at == DUE_15D  # not 15 days from the migration
        instance.complete(instance.find_ready("mediate").id, {"outcome": "agreed"})
        assert [t.bpmn_id for t in instance.ready_tasks()] == ["record_agreement"]
        assert instance.armed_timers() == []


def test_the_library_default_would_restart_the_deadline(engine, clock):
    """Why migrate() fixes reset_mask: the default re-arms WAITING timers from 'now'."""
    instance = _at_mediate(engine, clock)
    clock.advance(hours=5)
    new = bundle("mediation_v2")
    with use_clock(clock.now):
        wf_diff, _ = diff_workflow(serializer().registry, instance.workflow, new.spec("mediation"),
                                   new.subprocess_specs("mediation"))
        migrate_workflow(wf_diff, instance.workflow, new.spec("mediation"))
        instance.advance()
    assert instance.due_at == DUE_15D + timedelta(hours=5)


def test_migrated_state_survives_a_save_and_load_on_the_new_version(engine, clock):
    instance = _at_mediate(engine, clock)
    plan = _plan(instance, bundle("mediation_v2"))
    with use_clock(clock.now):
        migrate(instance, plan, "2:mediation")
    versions = {"1:mediation": bundle("mediation_v1"), "2:mediation": bundle("mediation_v2")}

    def lookup(version):
        b = versions[version]
        return b.spec("mediation"), b.subprocess_specs("mediation")

    ser = serializer(engine, lookup)
    loaded = WorkflowInstance.load(instance.dump(ser), ser)
    assert loaded.spec_version == "2:mediation"
    assert loaded.due_at == DUE_15D
    with use_clock(clock.now):
        loaded.complete(loaded.find_ready("mediate").id, {"outcome": "agreed"})
    assert [t.bpmn_id for t in loaded.ready_tasks()] == ["record_agreement"]


def test_subprocess_tasks_are_migrated_and_their_timers_kept(engine, clock):
    with use_clock(clock.now):
        instance = WorkflowInstance.start(bundle("subflow_v1"), "subflow", script_engine=engine)
    due = instance.due_at
    assert due == DUE_15D
    clock.advance(days=1)
    plan = _plan(instance, bundle("subflow_v2"))
    assert plan.safe and "confirm" in plan.added
    with use_clock(clock.now):
        migrate(instance, plan, "2:subflow")
        instance.advance()
        assert instance.due_at == due
        instance.complete(instance.find_ready("handle").id, {})
    assert [t.bpmn_id for t in instance.ready_tasks()] == ["confirm"]


def test_running_call_activity_whose_process_is_gone_cannot_be_migrated(engine, clock):
    with use_clock(clock.now):
        instance = WorkflowInstance.start(bundle("call_v1"), "parent_proc", script_engine=engine)
    assert [t.bpmn_id for t in instance.ready_tasks()] == ["child_task"]
    plan = _plan(instance, bundle("call_v2"))
    assert not plan.safe and not plan.possible
    assert plan.missing_subprocesses == ["child_proc"]
    with pytest.raises(MigrationRefused, match="child_proc"):
        migrate(instance, plan, "2:parent_proc")


def test_summary_is_plain_json(engine, clock):
    import json

    plan = _plan(_at_mediate(engine, clock), bundle("mediation_v3"))
    summary = json.loads(json.dumps(plan.summary()))
    assert summary["safe"] is False and summary["blocking"] == ["register"]
    assert RESET_MASK == TaskState.READY


# -- finished sub-processes compacted out of the state (engine/compaction.py) ------------------
_AFTER_CALL = ('<bpmn:sequenceFlow id="p2" sourceRef="call_child" targetRef="p_end"/>',
               '<bpmn:sequenceFlow id="p2" sourceRef="call_child" targetRef="after"/>'
               '<bpmn:userTask id="after" name="之后"/>'
               '<bpmn:sequenceFlow id="p3" sourceRef="after" targetRef="p_end"/>')


def _call_bundle(*replacements: tuple[str, str]):
    text = (PROCESSES / "call_v1.bpmn").read_text(encoding="utf-8")
    for old, new in (_AFTER_CALL, *replacements):
        assert old in text, old
        text = text.replace(old, new)
    return compile_bundle({"call.bpmn": text})


def _past_the_call(engine, clock) -> tuple[WorkflowInstance, WorkflowInstance]:
    """The same state twice: full, and with the finished call compacted away."""
    instances = []
    for _ in range(2):
        with use_clock(clock.now):
            instance = WorkflowInstance.start(_call_bundle(), "parent_proc", script_engine=engine)
            instance.complete(instance.find_ready("child_task").id, {})
        assert [t.bpmn_id for t in instance.ready_tasks()] == ["after"]
        instances.append(instance)
    full, compacted = instances
    assert compacted.compact() == 1 and not compacted.workflow.subprocesses
    assert compacted.state_digest() == full.state_digest()
    return full, compacted


@pytest.mark.parametrize("change", [
    (),                                                                        # same version
    (('<bpmn:userTask id="child_task" name="子任务"/>',
      '<bpmn:userTask id="child_task" name="子任务（改名）"/>'),),               # words only
    (('id="child_task"', 'id="child_step"'), ('targetRef="child_task"', 'targetRef="child_step"'),
     ('sourceRef="child_task"', 'sourceRef="child_step"')),                  # a finished task gone
    (('calledElement="child_proc"', 'calledElement="other_proc"'),
     ('id="child_proc"', 'id="other_proc"')),                                 # the called process gone
])
def test_a_compacted_finished_call_is_judged_as_the_full_state(engine, clock, change):
    full, compacted = _past_the_call(engine, clock)
    new = _call_bundle(*change)
    expected, actual = _plan(full, new), _plan(compacted, new)
    assert (actual.safe, actual.blocking, actual.missing_subprocesses) == \
        (expected.safe, expected.blocking, expected.missing_subprocesses)
    assert actual.safe == (len(change) < 2)
    if len(change) == 2:
        assert actual.missing_subprocesses == ["child_proc"]
