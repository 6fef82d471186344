"""The editor's validation and dry run under the ceiling and the run budget (no database writes)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from engine.limits import Budget
from tests.engine.test_limits import huge, runaway
from tests.process_fixtures import owner
from workflows.core.errors import DeployRejected
from workflows.processes.workbench import dry_run, validate_files

OWNER = owner()


def test_validation_refuses_a_cardinality_of_a_million_naming_the_element(services):
    report = validate_files(services, OWNER, huge("1000000"))
    assert not report.ok
    [error] = report.errors
    assert error["element_id"] == "review" and error["code"] == "cardinality"


def test_validation_refuses_a_cardinality_from_data_once_the_smoke_run_reaches_it(services):
    files = huge("reviewers")
    report = validate_files(services, OWNER, files)
    assert report.ok  # the smoke run does not know the data: nothing to refuse yet
    assert len(dry_run(services, OWNER, files, data={"reviewers": 20}).ready_tasks) == 20
    with pytest.raises(DeployRejected) as refused:
        dry_run(services, OWNER, files, data={"reviewers": 1_000_000})
    [problem] = refused.value.problems
    assert (problem.element_id, problem.code) == ("review", "limit_cardinality")


def test_a_validation_that_exceeds_its_budget_is_refused_on_the_looping_element(services):
    report = validate_files(services, OWNER, runaway(), budget=Budget(max_steps=50))
    [error] = report.errors
    assert error["code"] == "limit_steps" and error["element_id"] in {"spin", "again"}


def test_the_settings_give_the_budget(services):
    services.settings = replace(services.settings, run_budget_steps=60)
    [error] = validate_files(services, OWNER, runaway()).errors
    assert error["code"] == "limit_steps" and error["params"] == {"limit": 60}


def test_a_dry_run_that_exceeds_its_time_budget_is_refused(services):
    ticks = iter(range(10**6))
    slow = Budget(max_steps=10**9, max_seconds=20, clock=lambda: float(next(ticks)))
    with pytest.raises(DeployRejected) as refused:
        dry_run(services, OWNER, runaway(), budget=slow)
    assert [p.code for p in refused.value.problems] == ["limit_seconds"]
