"""What follows every engine step of a case, and timers fired outside the scheduler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.instance import WorkflowInstance
from engine.models import InstanceRow
from workflows.audit.inputs import record_input, record_timers_fired
from workflows.audit.log import AuditAction
from workflows.cases.lookup import find_case
from workflows.casework.projection import project_case
from workflows.core.actors import SCHEDULER, SYSTEM, Actor
from workflows.models import Case, OpenTask
from workflows.notify.case_notices import notify_new_tasks

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services
    from workflows.runtime.unit_of_work import UnitOfWork


def after_step(uow: UnitOfWork, case: Case, inst: WorkflowInstance) -> list[OpenTask]:
    """Project the case from its instance and tell whoever must do the new tasks; returns them."""
    created = project_case(uow, case, inst)
    notify_new_tasks(uow, case, created)
    return created


def fire_timers_recorded(uow: UnitOfWork, actor: Actor, case: Case, inst: WorkflowInstance) -> list[str]:
    """Fire due timers in their own step and record it when anything changed (replayable)."""
    return _fire(uow, actor, case, inst)[1]


def fire_timers_changed(uow: UnitOfWork, actor: Actor, case: Case, inst: WorkflowInstance) -> bool:
    """Like ``fire_timers_recorded``; True when a timer changed the instance."""
    return _fire(uow, actor, case, inst)[0]


def _fire(uow: UnitOfWork, actor: Actor, case: Case, inst: WorkflowInstance) -> tuple[bool, list[str]]:
    # a timer that fires changes task states: no recorded transition means nothing changed;
    # with no timer due the engine is not run at all (most completions)
    if not inst.timer_due(uow.clock.now()):
        return False, []
    armed = inst.armed_timers()
    with uow.recording(inst, actor, case=case) as recorder:
        inst.fire_timers()
    if not recorder.transitions:
        return False, []
    return True, record_timers_fired(uow, actor, case, inst, armed)


def fire_due_timers(services: Services, case_no: str) -> list[str]:
    """Fire one case's due timers now and commit (what the scheduler's sweep does per instance).

    Returns the names of the timers that fired. Used by the demo loader, tests and operators.
    """
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, case_no)
        inst = uow.load_instance(case.workflow_instance_id)
        now = uow.clock.now()
        if not any(at <= now for _, at in inst.armed_timers()):
            return []
        fired = fire_timers_recorded(uow, SCHEDULER, case, inst)
        after_step(uow, case, inst)
        uow.commit()
        return fired


LIVE_INSTANCE = ("running", "waiting", "incident")


def merge_lost_results(services: Services, case_no: str, actor: Actor = SYSTEM) -> list[dict]:
    """Take in the co-order results a multi-instance step of the case never took in (states
    saved before multi-instance steps were wired on compile: engine/bpmn_parser.py) and move
    the case on; recorded as ``results_merged`` (replayable), the open tasks projected.

    Returns what was taken in ({"activity", "item"}), [] when nothing was lost."""
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, case_no)
        row = uow.session.get(InstanceRow, case.workflow_instance_id) \
            if case.workflow_instance_id is not None else None
        if row is None or row.status not in LIVE_INSTANCE:
            return []
        inst = uow.load_instance(row.id)
        with uow.recording(inst, actor, case=case):
            merged = inst.merge_lost_results()
        if not merged:
            return []
        record_input(uow, AuditAction.RESULTS_MERGED, actor, case, inst,
                     object_type="workflow_instance", object_id=row.id, merged=merged)
        after_step(uow, case, inst)
        uow.commit()
        return merged


def cases_with_lost_results(services: Services) -> list[str]:
    """Codes of the cases whose running instance holds results a multi-instance step never
    took in (read only; ``merge_lost_results`` repairs one)."""
    found = []
    with services.session_factory() as session:
        rows = session.execute(
            select(Case.case_no, InstanceRow.state)
            .join(InstanceRow, InstanceRow.id == Case.workflow_instance_id)
            .where(InstanceRow.status.in_(LIVE_INSTANCE)).order_by(Case.id)).all()
    for case_no, state in rows:
        if WorkflowInstance.load(state, services.serializer).lost_results():
            found.append(case_no)
    return found
