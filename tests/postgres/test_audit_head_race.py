"""The head of a case's audit chain is read with the case, unlocked: when another transaction
appends to that chain between the read and the commit, the later commit waits for it and links
its events after the other's — both commit, and the chain stays one unbroken line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.bpmn.test_services_general import local, registered
from tests.conftest import PG
from tests.factories import Walk
from workflows.audit.log import AuditAction, verify_chains
from workflows.cases.lookup import load_case
from workflows.core.actors import SYSTEM

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def _notes(services, chain: str) -> list[str]:
    with services.session_factory() as session:
        return [json.loads(payload).get("why") for payload in session.scalars(
            select(AuditEvent.payload).where(AuditEvent.chain_key == chain,
                                             AuditEvent.action == AuditAction.CASE_UPDATED)
            .order_by(AuditEvent.seq))]


def test_an_append_meanwhile_is_waited_for_and_linked_after(committed_services, clock):
    services = committed_services
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    registered(walk)
    supervisor = walk.user("supervisor", "ZZ")
    late = services.new_uow()
    with late:
        case = load_case(late, supervisor, walk.case_no)      # the head is read here
        chain = f"case:{case.id}"
        other = services.new_uow()
        with other:                                           # a colleague appends meanwhile
            load_case(other, SYSTEM, walk.case_no)
            other.audit.record(AuditAction.CASE_UPDATED, SYSTEM, case=case.id, why="first")
            other.commit()
        late.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="second")
        late.commit()
    assert _notes(services, chain)[-2:] == ["first", "second"]
    with services.session_factory() as session:
        assert verify_chains(session, services.keyring, [chain]).ok
