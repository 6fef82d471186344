"""Limits: the multi-instance ceiling holds at validation and at run time; a budget stops a
runaway run by steps or by (injected) time."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.clock import FrozenClock, use_clock
from engine.errors import BpmnValidationError
from engine.instance import WorkflowInstance
from engine.limits import Budget, LimitExceeded, budgeted
from engine.script_engine import make_script_engine
from engine.specs import compile_bundle
from tests.process_fixtures import MONDAY_9

LIMITS = Path(__file__).parents[1] / "fixtures" / "bpmn" / "limits"


def huge(count: str) -> dict[str, str]:
    text = (LIMITS / "huge_cardinality.bpmn").read_text(encoding="utf-8")
    return {"huge.bpmn": text.replace("COUNT", count)}


def runaway() -> dict[str, str]:
    return {"runaway.bpmn": (LIMITS / "runaway.bpmn").read_text(encoding="utf-8")}


def test_a_literal_cardinality_of_a_million_is_refused_at_validation_on_its_element():
    with pytest.raises(BpmnValidationError) as refused:
        compile_bundle(huge("1000000"))
    [problem] = refused.value.problems
    assert problem.element_id == "review"
    assert problem.code == "cardinality"
    assert dict(problem.params) == {"count": 1000000, "limit": 200}


def test_the_ceiling_is_a_setting():
    compile_bundle(huge("300"), max_cardinality=500)
    with pytest.raises(BpmnValidationError):
        compile_bundle(huge("300"))


def test_a_cardinality_from_data_is_refused_when_it_runs_before_any_child_exists():
    bundle = compile_bundle(huge("reviewers"))
    with use_clock(FrozenClock(MONDAY_9)), pytest.raises(LimitExceeded) as refused:
        WorkflowInstance.start(bundle, "huge", script_engine=make_script_engine(),
                               data={"reviewers": 1_000_000})
    assert refused.value.code == "cardinality" and refused.value.element_id == "review"
    with use_clock(FrozenClock(MONDAY_9)):
        fine = WorkflowInstance.start(bundle, "huge", script_engine=make_script_engine(),
                                      data={"reviewers": 3})
    assert len(fine.ready_tasks()) == 3


def test_a_runaway_loop_is_stopped_by_the_step_budget():
    bundle = compile_bundle(runaway())
    budget = Budget(max_steps=100, max_seconds=3600)
    with use_clock(FrozenClock(MONDAY_9)), budgeted(budget), \
            pytest.raises(LimitExceeded) as refused:
        WorkflowInstance.start(bundle, "runaway", script_engine=make_script_engine())
    assert refused.value.code == "steps" and refused.value.element_id in {"spin", "again"}
    assert budget.steps == 101


def test_a_runaway_loop_is_stopped_by_the_time_budget_on_an_injected_clock():
    ticks = iter(range(10**6))  # every look at the clock: one more second
    budget = Budget(max_steps=10**9, max_seconds=30, clock=lambda: float(next(ticks)))
    with use_clock(FrozenClock(MONDAY_9)), budgeted(budget), \
            pytest.raises(LimitExceeded) as refused:
        WorkflowInstance.start(compile_bundle(runaway()), "runaway",
                               script_engine=make_script_engine())
    assert refused.value.code == "seconds"
    assert budget.steps < 40


def test_without_a_budget_an_ordinary_run_is_not_counted():
    bundle = compile_bundle(huge("2"))
    with use_clock(FrozenClock(MONDAY_9)):
        instance = WorkflowInstance.start(bundle, "huge", script_engine=make_script_engine())
    assert len(instance.ready_tasks()) == 2
