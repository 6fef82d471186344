"""A process owner deploys a new version with an extra step and moves running cases."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.models import AuditEvent, InstanceRow, ProcessVersion
from tests.process_fixtures import complete_step, deploy_version, owner, start_case
from workflows.access.policy import Denied
from workflows.audit.log import verify_chains
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError
from workflows.models import Case, OpenTask
from workflows.processes.case_migration import (
    MigrationRefused,
    migrate_case,
    migrate_cases,
    plan_case,
    preview_migration,
)

DUE_15D = datetime.fromisoformat("2025-03-18T01:00:00+00:00")  # 15 days after Mon 09:00 Beijing
OWNER = owner()


def _row(services, case_no: str) -> InstanceRow:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        row = session.get(InstanceRow, case.workflow_instance_id)
        session.expunge(row)
        return row


def _version_of(services, case_no: str) -> int:
    with services.session_factory() as session:
        row = session.get(InstanceRow, _row(services, case_no).id)
        return session.get(ProcessVersion, row.process_version_id).version


def _open_tasks(services, case_no: str) -> list[tuple[str, datetime | None]]:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        rows = session.scalars(select(OpenTask).where(OpenTask.case_id == case.id))
        return sorted((t.bpmn_id, t.due_at) for t in rows)


def _events(services, case_no: str, action: str) -> list[dict]:
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.case_no == case_no)).one()
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain_key == f"case:{case.id}",
                                                        AuditEvent.action == action))
        return [json.loads(r.payload) | {"_actor": r.actor_id, "_chain": r.chain_key}
                for r in rows]


@pytest.fixture
def waiting_case(services):
    """Version 1 deployed; JF-A registered and waiting in mediation with its 15-day deadline."""
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-A")
    assert complete_step(services, "JF-A", "register", {"category": "labour"}) == ["mediate"]
    assert _row(services, "JF-A").due_at == DUE_15D
    return "JF-A"


def test_new_step_old_cases_stay_new_cases_take_it_waiting_case_migrates_with_its_deadline(
        services, clock, keyring, waiting_case):
    start_case(services, "mediation", "JF-OLD")
    complete_step(services, "JF-OLD", "register", {"category": "neighbour"})
    [v2] = deploy_version(services, "mediation_v2", note="增加制作调解协议书")
    assert v2.version == 2 and v2.status == "active"

    # a case started before stays on version 1 and finishes there, without the new step
    assert complete_step(services, "JF-OLD", "mediate", {"outcome": "agreed"}) == []
    old = _row(services, "JF-OLD")
    assert old.status == "completed" and _version_of(services, "JF-OLD") == 1

    # a new case takes the new step
    start_case(services, "mediation", "JF-NEW")
    assert _version_of(services, "JF-NEW") == 2
    complete_step(services, "JF-NEW", "register", {"category": "labour"})
    assert complete_step(services, "JF-NEW", "mediate", {"outcome": "agreed"}) == \
        ["record_agreement"]

    # the waiting case is previewed as safe and migrated five days later
    preview = preview_migration(services.new_uow(), OWNER, "mediation", 2)
    [planned] = preview.cases
    assert planned.case_no == "JF-A" and planned.safe
    assert planned.plan.added == ["record_agreement"] and planned.current == ["mediate"]
    clock.advance(days=5)
    outcome = migrate_case(services.new_uow(), OWNER, "JF-A", 2, "新增协议书步骤")
    assert outcome.migrated and (outcome.from_version, outcome.to_version) == (1, 2)
    row = _row(services, "JF-A")
    assert _version_of(services, "JF-A") == 2
    assert row.due_at == DUE_15D  # the pending 15-day timer kept its original due time
    assert _open_tasks(services, "JF-A") == [("mediate", DUE_15D)]

    [event] = _events(services, "JF-A", "instance_migrated")
    assert event["from"]["version"] == 1 and event["to"]["version"] == 2
    assert event["reset_mask"] == "READY" and event["reason"] == "新增协议书步骤"
    assert event["diff"]["added"] == ["record_agreement"] and event["diff"]["safe"] is True
    assert event["due_at_before"] == event["due_at_after"] == DUE_15D.isoformat()
    assert event["_actor"] == OWNER.id
    with services.session_factory() as session:
        assert verify_chains(session, keyring, [event["_chain"]]).ok

    # and from now on it follows the new version
    assert complete_step(services, "JF-A", "mediate", {"outcome": "agreed"}) == ["record_agreement"]


def test_unsafe_case_needs_force_and_a_second_reason(services, waiting_case):
    deploy_version(services, "mediation_v2")
    deploy_version(services, "mediation_v3")  # a required field on 'register', already done
    [planned] = preview_migration(services.new_uow(), OWNER, "mediation", 3).cases
    assert not planned.safe and planned.plan.blocking == ["register"]
    with pytest.raises(MigrationRefused) as refused:
        migrate_case(services.new_uow(), OWNER, "JF-A", 3, "表单调整")
    assert "register" in refused.value.field_errors["to_version"].params["elements"]
    with pytest.raises(MigrationRefused) as no_second:
        migrate_case(services.new_uow(), OWNER, "JF-A", 3, "表单调整", force=True)
    assert "force_reason" in no_second.value.field_errors
    assert _version_of(services, "JF-A") == 1  # nothing was written

    outcome = migrate_case(services.new_uow(), OWNER, "JF-A", 3, "表单调整", force=True,
                           force_reason="登记信息已线下补录")
    assert outcome.forced and _version_of(services, "JF-A") == 3
    [event] = _events(services, "JF-A", "instance_migrated")
    assert event["forced"] is True and event["force_reason"] == "登记信息已线下补录"
    assert event["diff"]["blocking"] == ["register"]


def test_a_case_that_has_not_reached_the_change_is_safe_for_the_same_version(services):
    deploy_version(services, "mediation_v1")
    start_case(services, "mediation", "JF-FRESH")
    deploy_version(services, "mediation_v2")
    deploy_version(services, "mediation_v3")
    plan = plan_case(services.new_uow(), OWNER, "JF-FRESH", 3)
    assert plan.safe and plan.current == ["register"]


def test_bulk_migration_runs_one_transaction_per_case(services, waiting_case):
    start_case(services, "mediation", "JF-B")  # still at 'register'
    deploy_version(services, "mediation_v2")
    deploy_version(services, "mediation_v3")
    outcomes = {o.case_no: o for o in migrate_cases(services, OWNER, "mediation", 3, "批量迁移")}
    assert outcomes["JF-B"].migrated
    assert not outcomes["JF-A"].migrated
    assert outcomes["JF-A"].error.code == ErrorCode.STEPS_CHANGED
    assert "register" in outcomes["JF-A"].error.params["elements"]
    assert _version_of(services, "JF-B") == 3 and _version_of(services, "JF-A") == 1


def test_refusals_reason_same_version_finished_case_and_pending_target(services, settings,
                                                                      waiting_case):
    with pytest.raises(MigrationRefused) as no_reason:
        migrate_case(services.new_uow(), OWNER, "JF-A", 1, " ")
    assert "reason" in no_reason.value.field_errors
    with pytest.raises(MigrationRefused) as same:
        migrate_case(services.new_uow(), OWNER, "JF-A", 1, "无变化")
    assert same.value.field_errors["to_version"] == FieldError(ErrorCode.ALREADY_ON_VERSION,
                                                               {"version": 1})
    services.settings = replace(settings, require_deploy_approval=True)
    [pending] = deploy_version(services, "mediation_v2")
    assert pending.status == "pending"
    with pytest.raises(MigrationRefused) as unapproved:
        migrate_case(services.new_uow(), OWNER, "JF-A", 2, "试图迁移")
    assert unapproved.value.field_errors["to_version"].code == ErrorCode.VERSION_NOT_ACTIVE


def test_only_process_owners_may_preview_or_migrate(services, waiting_case):
    mediator = Actor(type="user", id="7", username="m1", roles=frozenset({"mediator"}))
    with pytest.raises(Denied) as denied:
        preview_migration(services.new_uow(), mediator, "mediation", 1)
    assert denied.value.rule == "manage_processes.role"
    with pytest.raises(Denied):
        migrate_case(services.new_uow(), mediator, "JF-A", 1, "x")
