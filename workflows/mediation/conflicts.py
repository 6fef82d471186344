"""Conflicts of interest of an expert with a case (人民调解法 Art 20: a mediator may invite
specialists; like the mediator, an expert with an interest in the dispute should stand aside).

Two kinds are checked, both from what jiefen knows:

* **same organisation** — the expert's organisation is a party of the case: the party's unified
  social credit code equals the expert's, or an organisation party's name equals the expert's
  organisation (names are decrypted for the comparison only, never shown or stored);
* **earlier role** — the expert's account completed a step of the case (``task_completed`` on
  the case's chain), took part in it otherwise (registered it, mediates it, holds an open task,
  a ``case_participant`` row), or the expert is a party (their contact number is a party's
  phone, compared by blind index).

The result is a list of codes, stored on the invitation and shown in words.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from sqlalchemy import or_, select

from engine.models import AuditEvent
from workflows.audit.log import AuditAction
from workflows.cases.parties import PartyVault, case_parties
from workflows.mediation.experts import contact_of
from workflows.models import Case, CaseParticipant, Expert, OpenTask, PartyKind
from workflows.runtime.unit_of_work import UnitOfWork


class Conflict(StrEnum):
    """What ties an expert to a case."""

    SAME_ORGANISATION = "same_organisation"
    COMPLETED_TASK = "completed_task"
    CASE_PARTICIPANT = "case_participant"
    IS_PARTY = "is_party"


def conflicts(uow: UnitOfWork, case: Case, expert: Expert) -> list[str]:
    """The conflicts of interest of this expert with this case, in a fixed order."""
    found: list[str] = []
    vault = PartyVault.of(uow.services)
    links = case_parties(uow.session, case)
    if _same_organisation(vault, expert, [party for _link, party in links]):
        found.append(Conflict.SAME_ORGANISATION)
    if _completed_task(uow, case, expert.user_id):
        found.append(Conflict.COMPLETED_TASK)
    if _participant(uow, case, expert.user_id):
        found.append(Conflict.CASE_PARTICIPANT)
    contact = contact_of(uow, expert)
    indexes = vault.indexes(phone=contact) if contact else {}
    if indexes.get("phone_bidx") and any(party.phone_bidx == indexes["phone_bidx"]
                                         for _link, party in links):
        found.append(Conflict.IS_PARTY)
    return found


def _fold(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split()).casefold()


def _same_organisation(vault: PartyVault, expert: Expert, parties: list) -> bool:
    code, name = expert.organisation_code, _fold(expert.organisation)
    for party in parties:
        if code and party.credit_code and party.credit_code == code:
            return True
        if name and party.kind == PartyKind.ORGANISATION and \
                _fold(vault.reveal(party).get("name")) == name:
            return True
    return False


def _completed_task(uow: UnitOfWork, case: Case, user_id: int) -> bool:
    return uow.session.scalar(select(AuditEvent.id).where(
        AuditEvent.chain_key == f"case:{case.id}", AuditEvent.actor_id == str(user_id),
        AuditEvent.action == AuditAction.TASK_COMPLETED).limit(1)) is not None


def _participant(uow: UnitOfWork, case: Case, user_id: int) -> bool:
    if user_id in (case.owner_id, case.mediator_id):
        return True
    if uow.session.scalar(select(CaseParticipant.id).where(
            CaseParticipant.case_id == case.id, CaseParticipant.user_id == user_id)) is not None:
        return True
    return uow.session.scalar(select(OpenTask.id).where(
        OpenTask.case_id == case.id,
        or_(OpenTask.assignee_id == user_id, OpenTask.claimed_by == user_id)).limit(1)) is not None
