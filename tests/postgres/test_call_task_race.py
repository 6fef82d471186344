"""Two people complete the same phone call at the same moment on PostgreSQL: both read it open
(neither sees the other's outcome yet); the conditional update lets exactly one record its outcome,
the other gets CallTaskTaken (409) and writes nothing (one ``call_task_completed`` event)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.conftest import PG
from tests.factories import Walk
from tests.workflows.test_call_tasks import calls, local, reminded
from workflows.casework import call_tasks
from workflows.models import CallTask

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def test_two_simultaneous_completions_exactly_one_wins(committed_services, clock, monkeypatch):
    services = committed_services
    clock.set(local(2025, 9, 22, 9, 0))
    walk = Walk.ready(services, clock)
    reminded(walk)
    triage, clerk = walk.user("triage_officer", "ZZ"), walk.user("intake_clerk", "ZZ")
    [row] = calls(walk, triage)
    real = call_tasks._scoped
    raced: list[int] = []

    def colleague_finishes_meanwhile(uow, actor, call_id):
        found = real(uow, actor, call_id)      # the loser has read the call, still open
        if not raced:
            raced.append(1)
            call_tasks.complete_call(services.new_uow(), clerk, call_id, outcome="reached",
                                     note="已告知")
        return found

    monkeypatch.setattr(call_tasks, "_scoped", colleague_finishes_meanwhile)
    with pytest.raises(call_tasks.CallTaskTaken):
        call_tasks.complete_call(services.new_uow(), triage, row.id, outcome="not_reached",
                                 note="无人接听")
    with services.session_factory() as session:
        done = session.get(CallTask, row.id)
        assert (done.outcome, done.completed_by) == ("reached", int(clerk.id))
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "call_task_completed")) == 1
