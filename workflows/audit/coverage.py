"""Which objects must have a record in the audit chains, and whether they still do.

Deleting a whole chain together with its head row leaves the chain check nothing to compare (and a
chain rebuilt by later events starts cleanly at seq 1). These rules look from the other side, at
the objects themselves:

* every case has its chain ``case:<id>``, and the chain opens with the case's registration: the
  parties registered and the first step's task changes, then ``case_opened`` before anything else;
* every user, API token and process version has its creation event in the ``system`` chain
  (``user_created``, ``token_created``, ``process_deployed``, object id = the row's id).

Whoever creates one of these objects must write that event in the same unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.audit_chain import ChainBreak
from engine.models import AuditEvent, ProcessVersion
from workflows.audit.case_opening import CASE_OPENED, CASE_PRELUDE
from workflows.models import ApiToken, Case, User

SYSTEM_CHAIN = "system"
# (table, object_type, creation event) of the objects recorded in the system chain
SYSTEM_OBJECTS = ((User, "user", "user_created"),
                  (ApiToken, "api_token", "token_created"),
                  (ProcessVersion, "process_version", "process_deployed"))


def missing_records(session: Session, facts: Mapping[str, Any] | None = None) -> list[ChainBreak]:
    """A break for every case without its chain or its registration at the chain's start, and for
    every system object without its creation event.

    ``facts`` (from a full streaming verification, ``bulk_verify.ChainFacts`` per case chain)
    spares the three aggregate scans of the event table."""
    return _case_breaks(session, facts) + _system_breaks(session)


def _first_seq(session: Session, *conditions) -> dict[str, int]:
    query = (select(AuditEvent.chain_key, func.min(AuditEvent.seq))
             .where(AuditEvent.chain_key.like("case:%"), *conditions)
             .group_by(AuditEvent.chain_key))
    return {str(row[0]): int(row[1]) for row in session.execute(query)}


def _case_breaks(session: Session, facts: Mapping[str, Any] | None) -> list[ChainBreak]:
    if facts is None:
        any_event = _first_seq(session)
        opened = _first_seq(session, AuditEvent.action == CASE_OPENED)
        first_other = _first_seq(session, AuditEvent.action.not_in(CASE_PRELUDE))
    else:
        any_event = {c: f.first_seq for c, f in facts.items()}
        opened = {c: f.opened_seq for c, f in facts.items() if f.opened_seq is not None}
        first_other = {c: f.first_other_seq for c, f in facts.items()
                       if f.first_other_seq is not None}
    breaks = []
    for (case_id,) in session.execute(select(Case.id).order_by(Case.id)):
        chain = f"case:{case_id}"
        if chain not in any_event:
            breaks.append(ChainBreak(chain, 1, "the case has no audit chain: its events were "
                                               "deleted (with the chain head)"))
        elif chain not in opened:
            breaks.append(ChainBreak(chain, any_event[chain], "the chain lacks the case's "
                                     "registration (case_opened): deleted and begun anew?"))
        elif first_other.get(chain) != opened[chain]:
            breaks.append(ChainBreak(chain, first_other.get(chain, 1), "the chain does not open "
                                     "with the case's registration: deleted and begun anew?"))
    return breaks


def _system_breaks(session: Session) -> list[ChainBreak]:
    breaks = []
    for table, object_type, action in SYSTEM_OBJECTS:
        recorded = set(session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.chain_key == SYSTEM_CHAIN, AuditEvent.action == action,
            AuditEvent.object_type == object_type)))
        for ident in session.scalars(select(table.id).order_by(table.id)):
            if str(ident) not in recorded:
                breaks.append(ChainBreak(SYSTEM_CHAIN, 0, f"{object_type} {ident} has no {action} "
                                                          "event (system events deleted?)"))
    return breaks
