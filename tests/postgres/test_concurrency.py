"""Real concurrent transactions on PostgreSQL: exactly one of two completions of a task commits."""

from __future__ import annotations

import json
import threading

import pytest

from engine.errors import ConcurrentUpdate
from tests.conftest import PG
from tests.workflows.engine_helpers import MEDIATOR, deploy_simple, events, start_simple

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def test_two_connections_complete_the_same_task_exactly_one_wins(committed_services):
    services = committed_services
    deploy_simple(services)
    instance_id = start_simple(services, case_id=42)
    loaded = threading.Barrier(2)
    outcomes: list[str] = []

    def worker(amount: int) -> None:
        uow = services.new_uow()
        with uow:
            instance = uow.load_instance(instance_id)
            loaded.wait()                                   # both hold the same version now
            with uow.recording(instance, MEDIATOR, case=42):
                instance.complete(instance.find_ready("mediate").id, {"amount": amount})
            try:
                uow.commit()
                outcomes.append("committed")
            except ConcurrentUpdate:
                outcomes.append("conflict")

    threads = [threading.Thread(target=worker, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["committed", "conflict"]
    completions = [e for e in events(services, "case:42", "task_state_changed")
                   if json.loads(e.payload)["task"] == "mediate"
                   and json.loads(e.payload)["to"] == "COMPLETED"]
    assert len(completions) == 1
