"""The next step of a case reuses the workflow parsed by the last commit, but never a state that
changed meanwhile or an instance whose unit of work did not commit."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import update

from engine.models import InstanceRow
from tests.bpmn.test_services_general import local, registered
from tests.factories import Walk
from workflows.cases.lookup import find_case


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def _instance_id(walk: Walk) -> int:
    with walk.services.session_factory() as session:
        return find_case(session, walk.case_no).workflow_instance_id


def test_consecutive_steps_reuse_the_committed_instance(walk):
    registered(walk)
    hits = walk.services.instances.hits
    walk.do("sign_off", sign_off_decision="accept")
    assert walk.services.instances.hits > hits
    assert "contact_citizen" in walk.ids()
    assert "verified" in walk.replays()


def test_an_uncommitted_change_is_not_seen_by_the_next_unit_of_work(walk):
    registered(walk)
    instance_id = _instance_id(walk)
    with walk.services.new_uow() as uow:
        uow.load_instance(instance_id).set_data(summary="改过但未提交")
    with walk.services.new_uow() as uow:
        assert uow.load_instance(instance_id).workflow.data.get("summary") != "改过但未提交"


def test_a_state_changed_outside_is_read_afresh(walk):
    registered(walk)
    instance_id = _instance_id(walk)
    with walk.services.new_uow() as uow:     # a read that commits: the instance is cached
        uow.load_instance(instance_id)
        uow.commit()
    with walk.services.new_uow() as uow:
        row = uow.session.get(InstanceRow, instance_id)
        state = json.loads(row.state)
        state["data"]["marker"] = "外部修改"
        uow.session.execute(update(InstanceRow).where(InstanceRow.id == instance_id)
                            .values(state=json.dumps(state)))
        uow.commit()
    with walk.services.new_uow() as uow:
        assert uow.load_instance(instance_id).workflow.data.get("marker") == "外部修改"


def test_an_instance_changed_after_its_commit_is_not_kept(walk):
    registered(walk)
    instance_id = _instance_id(walk)
    with walk.services.new_uow() as uow:
        inst = uow.load_instance(instance_id)
        uow.commit()
        inst.set_data(summary="提交之后才改")
    with walk.services.new_uow() as uow:
        assert uow.load_instance(instance_id).workflow.data.get("summary") != "提交之后才改"
