"""Warnings under concurrency on PostgreSQL: ten supervisors deciding one warning at once give one
decision and nine AlreadyDecided; two rule runs at once raise each warning once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.conftest import PG
from tests.factories import make_user, seed
from tests.workflows.sched_support import case as add_case
from workflows.early_warning import evaluate as rules_run
from workflows.early_warning.decide import AlreadyDecided, decide_warning
from workflows.models import EarlyWarning

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]
THREADS = 10


def _together(calls: list) -> list:
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # the outcome is what the test checks
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_decision_wins_and_one_warning_per_subject(committed_services, clock):
    services = committed_services
    seed(services)
    for _ in range(3):
        add_case(services, people_count=20, opened_at=clock.now() - timedelta(hours=1))
    outcomes = _together([lambda: rules_run.evaluate(services, clock.now()) for _ in range(2)])
    with services.session_factory() as session:
        warnings = session.scalars(select(EarlyWarning).order_by(EarlyWarning.id)).all()
    assert len(warnings) == 3, outcomes

    supervisors = [make_user(services, "supervisor", "ZZ") for _ in range(THREADS)]
    target = warnings[0].id
    results = _together([
        (lambda who=who: decide_warning(services.new_uow(), who, target,
                                        decision="confirmed", note="核实"))
        for who in supervisors])
    assert sum(isinstance(r, EarlyWarning) for r in results) == 1, results
    assert sum(isinstance(r, AlreadyDecided) for r in results) == THREADS - 1, results
    with services.session_factory() as session:
        decided = session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "warning_decided"))
    assert decided == 1
