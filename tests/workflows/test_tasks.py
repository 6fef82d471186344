"""complete_task / claim_task / release_task on a small fixture process (the library walks are in
tests/bpmn/test_services_*.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from engine.models import AuditEvent
from tests.factories import IDS, make_user, seed
from tests.workflows.helpers import deploy_fixture
from workflows.access.policy import user_id
from workflows.cases.lookup import find_case
from workflows.cases.parties import PartyInput
from workflows.casework import tasks
from workflows.casework.tasks import claim_task, complete_task, release_task
from workflows.core.errors import InvalidInput, NotPermitted, TaskNoLongerAvailable
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import OpenTask


@pytest.fixture
def world(services):
    seed(services)
    deploy_fixture(services, "simple.bpmn")
    clerk = make_user(services, "intake_clerk", "ZZ")
    mediator = make_user(services, "mediator", "JDTJ")
    outcome = submit_intake(services.new_uow(), clerk, IntakeRequest(
        channel="counter", category="neighbour", description="楼上漏水",
        parties=[PartyInput(name="刘淑芬", id_number=IDS["刘淑芬"])]), process_id="simple")
    uow = services.new_uow()
    with uow:
        find_case(uow.session, outcome.case_no).mediator_id = user_id(mediator)
        uow.commit()
    return {"clerk": clerk, "mediator": mediator, "case_no": outcome.case_no}


def open_tasks(services, case_no):
    uow = services.new_uow()
    with uow:
        case = find_case(uow.session, case_no)
        return [(t.bpmn_id, t.role, t.task_id, t.due_at, t.claimed_by) for t in uow.session.scalars(
            select(OpenTask).where(OpenTask.case_id == case.id))]


def actions(services):
    uow = services.new_uow()
    with uow:
        return [(e.action, e.object_type, e.payload) for e in uow.session.scalars(
            select(AuditEvent).order_by(AuditEvent.id))]


def test_open_task_projection_has_role_and_deadline(services, world, clock):
    [(bpmn_id, role, _task_id, due_at, _)] = open_tasks(services, world["case_no"])
    assert (bpmn_id, role) == ("mediate", "mediator")
    assert due_at is not None and (due_at - clock.now()).total_seconds() == 2 * 3600


def test_completion_validates_completes_and_audits(services, world):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    with pytest.raises(InvalidInput) as caught:
        complete_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                      task_id=task_id, raw={"amount": "-5", "outcome": "maybe", "extra": "x"})
    assert set(caught.value.field_errors) == {"amount", "outcome", "extra"}
    result = complete_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                           task_id=task_id, raw={"amount": "500", "outcome": "agreed"})
    assert result.status == "closed" and result.next_tasks == []
    assert open_tasks(services, world["case_no"]) == []
    completed = [p for a, _, p in actions(services) if a == "task_completed"]
    assert len(completed) == 1 and '"amount":500' in completed[0]


def test_another_users_task_is_denied_and_audited(services, world):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    for intruder in (make_user(services, "mediator", "SQTJ"),
                     make_user(services, "dept_handler", "JDTJ")):
        with pytest.raises(NotPermitted):
            complete_task(services.new_uow(), intruder, case_no=world["case_no"],
                          task_id=task_id, raw={"amount": "1"})
    denied = [(t, p) for a, t, p in actions(services) if a == "access_denied"]
    assert len(denied) == 2 and all('"decision":"deny"' in p for _, p in denied)
    assert len(open_tasks(services, world["case_no"])) == 1  # nothing changed


def test_wrong_role_on_visible_case_is_denied(services, world):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    with pytest.raises(NotPermitted) as caught:
        complete_task(services.new_uow(), world["clerk"], case_no=world["case_no"],
                      task_id=task_id, raw={"amount": "1"})
    assert caught.value.rule == "complete_task.role"


def test_passed_deadline_wins_and_its_effects_are_committed(services, world, clock):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    clock.advance(hours=3)
    with pytest.raises(TaskNoLongerAvailable):
        complete_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                      task_id=task_id, raw={"amount": "1"})
    assert [t[0] for t in open_tasks(services, world["case_no"])] == ["escalate_review"]


def test_claim_is_exclusive_and_release_gives_it_back(services, world):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    claim_task(services.new_uow(), world["mediator"], case_no=world["case_no"], task_id=task_id)
    assert open_tasks(services, world["case_no"])[0][4] == user_id(world["mediator"])
    release_task(services.new_uow(), world["mediator"], case_no=world["case_no"], task_id=task_id)
    assert open_tasks(services, world["case_no"])[0][4] is None


def test_a_release_racing_a_step_that_hands_the_row_on_is_refused(services, world, monkeypatch):
    """The task closes between the release's read and its write, and a step hands its open-task
    row to the next task: the release says the task is gone and audits no release."""
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    claim_task(services.new_uow(), world["mediator"], case_no=world["case_no"], task_id=task_id)
    read = tasks._open_row

    def then_a_step_commits(uow, case, wanted):
        row = read(uow, case, wanted)
        uow.session.execute(update(OpenTask).where(OpenTask.id == row.id)   # what it committed
                            .values(task_id="next-task", claimed_by=None)
                            .execution_options(synchronize_session=False))
        return row

    monkeypatch.setattr(tasks, "_open_row", then_a_step_commits)
    with pytest.raises(TaskNoLongerAvailable):
        release_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                     task_id=task_id)
    assert "task_released" not in [a for a, _, _ in actions(services)]

def test_a_claim_does_not_pass_to_the_task_that_takes_the_row(services, world, clock):
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    claim_task(services.new_uow(), world["mediator"], case_no=world["case_no"], task_id=task_id)
    assert open_tasks(services, world["case_no"])[0][4] == user_id(world["mediator"])
    clock.advance(hours=3)   # the deadline passes: mediate closes, escalate_review opens
    with pytest.raises(TaskNoLongerAvailable):
        complete_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                      task_id=task_id, raw={"amount": "1"})
    [(bpmn_id, role, new_id, _, claimed_by)] = open_tasks(services, world["case_no"])
    assert (bpmn_id, new_id != task_id, claimed_by) == ("escalate_review", True, None)


def test_a_claim_racing_a_step_that_hands_the_row_on_takes_nothing(services, world, monkeypatch):
    """The task closes between the claim's read and its write and its row now holds the next
    task: the claim says the task is gone, the next task stays unclaimed, nothing is audited."""
    [(_, _, task_id, _, _)] = open_tasks(services, world["case_no"])
    read = tasks._open_row

    def then_a_step_commits(uow, case, wanted):
        row = read(uow, case, wanted)
        uow.session.execute(update(OpenTask).where(OpenTask.id == row.id)
                            .values(task_id="next-task")
                            .execution_options(synchronize_session=False))
        return row

    monkeypatch.setattr(tasks, "_open_row", then_a_step_commits)
    with pytest.raises(TaskNoLongerAvailable):
        claim_task(services.new_uow(), world["mediator"], case_no=world["case_no"],
                   task_id=task_id)
    [(_, _, _, _, claimed_by)] = open_tasks(services, world["case_no"])
    assert claimed_by is None
    assert "task_claimed" not in [a for a, _, _ in actions(services)]
