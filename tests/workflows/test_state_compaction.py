"""A case whose review keeps returning it does not carry its finished rounds in its stored state:
finished sub-processes are compacted away, yet replay, the diagram and late submissions behave
as they did with the full state."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.instance import WorkflowInstance
from engine.models import InstanceRow
from tests.bpmn.test_services_general import handle_to_review, local, registered
from tests.factories import Walk
from workflows.cases.lookup import find_case
from workflows.casework.tasks import complete_task
from workflows.core.errors import TaskNoLongerAvailable
from workflows.replay.case_replay import case_events, replay_steps


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))
    return Walk.ready(services, clock)


def _returned(walk: Walk, rounds: int) -> None:
    registered(walk)
    walk.do("sign_off", sign_off_decision="accept")
    handle_to_review(walk)
    for _ in range(rounds):
        walk.do("review_result", review_decision="return", review_note="未附检测报告")
        handle_to_review(walk)


def _stored(walk: Walk) -> tuple[dict, WorkflowInstance]:
    with walk.services.session_factory() as session:
        case = find_case(session, walk.case_no)
        row = session.get(InstanceRow, case.workflow_instance_id)
        return json.loads(row.state), WorkflowInstance.load(row.state, walk.services.serializer)


def test_finished_rounds_leave_the_stored_state_and_replay_still_verifies(walk):
    _returned(walk, 1)
    short, _ = _stored(walk)
    for _ in range(4):
        walk.do("review_result", review_decision="return", review_note="未附检测报告")
        handle_to_review(walk)
    long, inst = _stored(walk)

    assert len(long["subprocesses"]) <= len(short["subprocesses"])
    assert long["compacted"]["rows"], "the finished rounds are summarised"
    assert "verified" in walk.replays()
    with walk.services.session_factory() as session:
        row = session.scalar(select(InstanceRow).where(
            InstanceRow.id == find_case(session, walk.case_no).workflow_instance_id))
        assert row.state_digest == inst.state_digest()


def _replayed(walk: Walk) -> WorkflowInstance:
    """The instance the recorded history leads to, rebuilt step by step (never compacted)."""
    with walk.services.session_factory() as session:
        case = find_case(session, walk.case_no)
        steps = list(replay_steps(walk.services, session, case.id, case_events(session, case.id),
                                  None))
        instance = steps[-1][1].instance
        assert instance is not None
        return instance


def test_the_diagram_and_the_digest_are_those_of_the_full_state(walk):
    _returned(walk, 3)
    state, compacted = _stored(walk)
    full = _replayed(walk)

    assert len(full.workflow.subprocesses) > len(state["subprocesses"])
    assert compacted.element_states() == full.element_states()
    assert compacted.state_digest() == full.state_digest()
    assert [t.bpmn_id for t in compacted.ready_tasks()] == [t.bpmn_id for t in full.ready_tasks()]
    assert compacted.latest_data() == full.latest_data()


def test_an_old_state_without_compaction_is_compacted_at_its_next_step(walk, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(WorkflowInstance, "compact", lambda self: 0)
        _returned(walk, 3)
    before, _ = _stored(walk)
    walk.do("review_result", review_decision="return", review_note="未附检测报告")
    after, _ = _stored(walk)

    assert "compacted" not in before
    assert len(after["subprocesses"]) < len(before["subprocesses"])
    assert "verified" in walk.replays()


def test_a_late_submission_of_a_compacted_task_is_no_longer_available(walk):
    _returned(walk, 1)
    handled = walk.task("review_result")
    walk.do("review_result", review_decision="return", review_note="未附检测报告")
    handle_to_review(walk)
    walk.do("review_result", review_decision="return", review_note="未附检测报告")
    handle_to_review(walk)
    state, _ = _stored(walk)
    gone = list(state["compacted"]["tasks"])
    assert gone, "user tasks of finished rounds are remembered"
    # the earlier review task itself is top level; a finished round's task is compacted
    with pytest.raises(TaskNoLongerAvailable) as caught:
        complete_task(walk.services.new_uow(), walk.actor_for(handled), case_no=walk.case_no,
                      task_id=gone[0], raw={})
    assert caught.value.bpmn_id == state["compacted"]["tasks"][gone[0]][0]
