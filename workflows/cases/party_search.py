"""Searches by ID number or phone (the intake duplicate check): scoped display, audited.

De-duplication itself stays global (a second complaint must be found wherever the first one
sits), but what the searcher is *shown* is limited to the cases they may see: a match outside
their scope is reported only as "a related case exists and will be linked", without its code or
status. Every search is an access event (``parties_searched``: the blind-index kinds used, how
many cases matched, whether they were in scope), and the access log flags users above
``search_alert_per_hour`` searches in an hour.
"""

from __future__ import annotations

from sqlalchemy import select

from workflows.access.policy import visible_cases
from workflows.audit.log import AuditAction
from workflows.cases.parties import PartyInput
from workflows.core.actors import Actor
from workflows.models import Case
from workflows.runtime.unit_of_work import UnitOfWork


def visible_codes(uow: UnitOfWork, actor: Actor, codes: list[str]) -> set[str]:
    """The subset of ``codes`` the actor may see (one query)."""
    if not codes:
        return set()
    return set(uow.session.scalars(select(Case.case_no).where(Case.case_no.in_(codes),
                                                              visible_cases(actor))))


def search_kinds(parties: list[PartyInput]) -> list[str]:
    """Which blind indexes a submission searches by (never the values)."""
    kinds = set()
    for party in parties:
        if (getattr(party, "id_number", None) or "").strip():
            kinds.add("id_number")
        if (getattr(party, "phone", None) or "").strip():
            kinds.add("phone")
    return sorted(kinds)


def record_search(uow: UnitOfWork, actor: Actor, parties: list[PartyInput], *, matched: int,
                  shown: int, purpose: str = "duplicate_check") -> None:
    """The ``parties_searched`` access event, on the system chain (no case: a foreign case's
    chain must not learn who searched, and the searcher's view is what matters)."""
    uow.audit.record(AuditAction.PARTIES_SEARCHED, actor, object_type="party_search",
                     kinds=search_kinds(parties), results=matched, in_scope=shown,
                     out_of_scope=matched - shown, purpose=purpose, decision="allow",
                     rule="register_case.dedup", ip=actor.ip, session_hash=actor.session_hash)
