"""Completing a task that a boundary timer took away answers 409 in Chinese, like any race,
whatever the task (not only a sign-off, whose work order keeps its id); an id no case ever had
answers 404. Found through the engine step that cancelled it, on the 404 path only."""

from __future__ import annotations

import pytest

from tests.bpmn.test_services_escalation import local
from tests.factories import IDS, Walk
from workflows.access import tokens
from workflows.cases import task_lookup
from workflows.cases.parties import PartyInput
from workflows.core.actors import SYSTEM

REPLY = {"supervision_reply": "人员外出", "corrective_commitment": "今日签收"}


@pytest.fixture
def walk(services, clock) -> Walk:
    clock.set(local(2025, 3, 3, 9, 0))      # Monday
    walk = Walk.ready(services, clock)
    walk.intake(channel="hotline_12345", category="noise", summary="夜间施工噪声",
                description="工地夜间施工", parties=[PartyInput(name="刘淑芬",
                                                            id_number=IDS["刘淑芬"])])
    walk.do("register", category="noise", urgency="general", people_count="1", summary="噪声")
    return walk


def reply_timed_out(walk: Walk) -> tuple[dict, str]:
    """The 督办单's reply task and a token of its handler, after its reply deadline took it away
    (the ladder climbs to the tier upgrade instead)."""
    walk.advance(hours=25)
    walk.advance(hours=25)                                   # the second breach: L1 督办单
    walk.do("issue_supervision", supervision_note="请说明", listed_in_weekly_review="false")
    reply = walk.task("reply_supervision", "CG")
    token = tokens.issue_token(walk.services.new_uow(), SYSTEM,
                               username=walk.actor_for(reply).username).token
    walk.until(local(2025, 3, 7, 0, 1))                      # T-53: no reply in time
    assert "reply_supervision" not in walk.ids()
    return reply, token


def test_a_task_its_timer_cancelled_is_409_in_chinese_and_an_unknown_id_404(walk, app):
    reply, token = reply_timed_out(walk)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    gone = client.post(f"/api/v1/tasks/{reply['task_id']}/complete", json=REPLY,
                       headers=headers)
    never = client.post("/api/v1/tasks/5b0c3c1e-0000-4000-8000-00000000ffff/complete",
                        json=REPLY, headers=headers)
    typed = client.post("/api/v1/tasks/not-a-task/complete", json=REPLY, headers=headers)

    assert gone.status_code == 409, gone.get_json()
    assert gone.get_json()["error"] == "task_no_longer_available"
    assert "已超过时限" in gone.get_json()["message"]
    assert (never.status_code, typed.status_code) == (404, 404)


def test_the_cancelled_task_is_named_and_outside_the_window_it_is_unknown(walk, clock):
    reply, _token = reply_timed_out(walk)
    with pytest.raises(task_lookup.TaskNoLongerAvailable) as gone:
        task_lookup.case_no_of_task(walk.services.new_uow(), SYSTEM, reply["task_id"])
    assert (gone.value.bpmn_id, gone.value.state) == ("reply_supervision", "cancelled")

    clock.advance(days=task_lookup.CANCEL_WINDOW.days, seconds=1)
    with pytest.raises(task_lookup.NotFound):
        task_lookup.case_no_of_task(walk.services.new_uow(), SYSTEM, reply["task_id"])


def test_only_the_newest_engine_steps_are_read_for_a_cancelled_task(walk, clock, monkeypatch):
    reply, _token = reply_timed_out(walk)
    clock.advance(minutes=1)
    walk.do("sign_off", "CG", sign_off_decision="accept")     # a newer step than the timer's
    monkeypatch.setattr(task_lookup, "CANCEL_STEPS", 1)
    with pytest.raises(task_lookup.NotFound):
        task_lookup.case_no_of_task(walk.services.new_uow(), SYSTEM, reply["task_id"])
    monkeypatch.setattr(task_lookup, "CANCEL_STEPS", 50)
    with pytest.raises(task_lookup.TaskNoLongerAvailable):
        task_lookup.case_no_of_task(walk.services.new_uow(), SYSTEM, reply["task_id"])
