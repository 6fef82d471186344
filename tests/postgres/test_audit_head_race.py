"""The head of a case's audit chain is read with the case, unlocked: when another transaction
appends to that chain between the read and the commit, the later commit writes nothing and ends
as a lost race (409), and the chain stays one unbroken line."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.errors import ConcurrentUpdate
from engine.models import AuditEvent
from tests.bpmn.test_services_general import local, registered
from tests.conftest import PG
from tests.factories import Walk
from workflows.audit.log import AuditAction, verify_chains
from workflows.cases.lookup import load_case
from workflows.core.actors import SYSTEM

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not PG, reason="needs PostgreSQL (DATABASE_URL)")]


def _notes(services, chain: str) -> int:
    with services.session_factory() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.chain_key == chain, AuditEvent.action == AuditAction.CASE_UPDATED))


def test_an_append_meanwhile_makes_the_later_commit_a_lost_race(committed_services, clock):
    services = committed_services
    clock.set(local(2025, 3, 3, 9, 0))
    walk = Walk.ready(services, clock)
    registered(walk)
    supervisor = walk.user("supervisor", "ZZ")
    late = services.new_uow()
    with late:
        case = load_case(late, supervisor, walk.case_no)      # the head is read here
        chain = f"case:{case.id}"
        before = _notes(services, chain)
        other = services.new_uow()
        with other:                                           # a colleague appends meanwhile
            load_case(other, SYSTEM, walk.case_no)
            other.audit.record(AuditAction.CASE_UPDATED, SYSTEM, case=case.id, why="first")
            other.commit()
        late.audit.record(AuditAction.CASE_UPDATED, supervisor, case=case, why="second")
        with pytest.raises(ConcurrentUpdate):
            late.commit()
    assert _notes(services, chain) == before + 1
    with services.session_factory() as session:
        assert verify_chains(session, services.keyring, [chain]).ok
