"""Shared helpers for the process-owner tests: fixture bundles and an in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.deadlines import WorkingCalendar
from engine.script_engine import make_script_engine
from engine.serializer import make_serializer
from engine.specs import compile_bundle

PROCESSES = Path(__file__).parent / "fixtures" / "bpmn" / "processes"
CAMUNDA = Path(__file__).parent / "fixtures" / "bpmn" / "camunda"
MONDAY_9 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def process_files(name: str, logical: str | None = None) -> dict[str, bytes]:
    """One fixture version under its logical name: ``mediation_v2`` -> {'mediation.bpmn': ...}."""
    logical = logical or name.split("_v")[0] + ".bpmn"
    return {logical: (PROCESSES / f"{name}.bpmn").read_bytes()}


def bundle(name: str):
    return compile_bundle(process_files(name))


def calendar() -> WorkingCalendar:
    return WorkingCalendar({})


def script_engine():
    return make_script_engine(calendar())


def serializer(engine=None, lookup=None):
    return make_serializer(engine or script_engine(), lookup or (lambda version: (None, None)))


# -- through the database (workflows tests) -------------------------------------------------------


def owner(username: str = "owner1"):
    """A process owner actor (not a database user: the process services check the role only)."""
    from workflows.core.actors import Actor

    return Actor(type="user", id="900", username=username, roles=frozenset({"process_owner"}))


def deploy_version(services, name: str, actor=None, note: str | None = None):
    """Deploy a fixture version (e.g. 'mediation_v2') as mediation.bpmn; returns the rows."""
    from workflows.processes.deploy import deploy_bundle

    return deploy_bundle(services.new_uow(), actor or owner(), process_files(name), note=note)


def start_case(services, process_id: str, case_no: str, data: dict | None = None) -> int:
    """A case row on the live version of ``process_id``; returns its workflow instance id."""
    from workflows.audit.inputs import record_input
    from workflows.audit.log import AuditAction
    from workflows.casework.projection import project_case
    from workflows.core.actors import SYSTEM
    from workflows.models import Case

    uow = services.new_uow()
    with uow:
        case = Case(case_no=case_no, channel="counter", summary="测试案件")
        uow.session.add(case)
        uow.session.flush()
        initial = {"case_no": case_no, **(data or {})}
        row, instance = uow.start_instance(process_id, data=initial, actor=SYSTEM, case=case)
        case.workflow_instance_id = row.id
        record_input(uow, AuditAction.CASE_OPENED, SYSTEM, case, instance, object_type="case",
                     object_id=case_no, process_version_id=row.process_version_id,
                     process_id=process_id, initial_data=initial)
        project_case(uow, case, instance)
        uow.commit()
        return row.id


def complete_step(services, case_no: str, bpmn_id: str, data: dict) -> list[str]:
    """Complete a ready task of a case through the unit of work; returns the ready task ids."""
    from sqlalchemy import select

    from workflows.casework.projection import project_case
    from workflows.core.actors import SYSTEM
    from workflows.models import Case

    uow = services.new_uow()
    with uow:
        case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).one()
        instance = uow.load_instance(case.workflow_instance_id)
        with uow.recording(instance, SYSTEM, case=case):
            instance.complete(instance.find_ready(bpmn_id).id, data)
        project_case(uow, case, instance)
        uow.commit()
        return [t.bpmn_id for t in instance.ready_tasks()]
