"""Migrating running instances between spec versions: the safe rule and timers that keep their due time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow

from engine.clock import FrozenClock, use_clock
from engine.instance import WorkflowInstance
from engine.migration import RESET_MASK, MigrationRefused, migrate, plan_migration
from tests.process_fixtures import MONDAY_9, bundle, script_engine, serializer

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


def test_change_to_a_completed_task_is_unsafe_and_names_it(engine, clock):
    instance = _at_mediate(engine, clock)
    plan = _plan(instance, bundle("mediation_v3"))  # v3 adds a form field to 'register'
    assert not plan.safe
    assert plan.blocking == ["register"]
    assert "extensions" in plan.changed["register"]


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
