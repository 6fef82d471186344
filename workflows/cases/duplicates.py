"""De-duplication of intake submissions.

* exact match — an applicant of the submission is an applicant of a case (ID-number or phone blind
  index) with the same category: an open case (within the window) -> duplicate; a case closed
  within its watch window -> second complaint. Linked automatically by the intake service.
* similar — any party of the submission is a party of an open or watched case with the same
  category, in any role (e.g. the respondent complains back): the case codes are handed to the
  process as ``duplicate_candidates`` and the clerk confirms in ``confirm_duplicate``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select

from engine.models import InstanceRow
from workflows.cases.parties import PartyInput, PartyVault
from workflows.models import (
    Case,
    CaseLegalPath,
    CaseParty,
    CaseStatus,
    LegalPath,
    Party,
    SubmissionLink,
)
from workflows.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from workflows.intake.register import IntakeRequest

REOPEN_WINDOW_DAYS = 30  # watch window after closure; the process's own watch timer decides


def _keys(uow: UnitOfWork, parties: list[PartyInput],
          roles: tuple[str, ...] | None) -> list[ColumnElement[bool]]:
    vault = PartyVault.of(uow.services)
    keys: list[ColumnElement[bool]] = []
    for party in parties:
        if roles is None or party.role in roles:
            values = vault.clean(party)
            index = vault.indexes(phone=values.get("phone"), id_number=values.get("id_number"))
            keys.extend(getattr(Party, column) == value for column, value in index.items())
    return keys


def _same_matter(uow: UnitOfWork, request: IntakeRequest, *, applicants_only: bool):
    keys = _keys(uow, request.parties, ("applicant",) if applicants_only else None)
    if not keys:
        return []
    query = (select(Case).join(CaseParty, CaseParty.case_id == Case.id)
             .join(Party, Party.id == CaseParty.party_id)
             .where(or_(*keys), Case.category == request.category,
                    Case.duplicate_of_id.is_(None))
             .order_by(Case.opened_at.desc(), Case.id.desc()).distinct())
    if applicants_only:
        query = query.where(CaseParty.role == "applicant")
    return list(uow.session.scalars(query))


def find_match(uow: UnitOfWork, request: IntakeRequest) -> tuple[Case | None, str | None]:
    """The open case (duplicate) or recently closed case (second complaint) of the same matter.

    The duplicate window runs between the received times: the open case's (``opened_at``) and
    this submission's (now when the channel gave none)."""
    now = uow.clock.now()
    received = request.received_at or now
    window = timedelta(days=uow.services.settings.duplicate_window_days)
    for case in _same_matter(uow, request, applicants_only=True):
        if case.status != CaseStatus.CLOSED:
            if case.opened_at >= received - window:
                return case, SubmissionLink.DUPLICATE
        elif watching(uow, case, now):
            return case, SubmissionLink.SECOND_COMPLAINT
    return None, None


def final_petition(uow: UnitOfWork, request: IntakeRequest) -> Case | None:
    """The latest earlier case of an applicant of this submission whose petition path ended with
    the 复核 answer: 信访工作条例 Art 36, the same facts and reasons are not accepted again."""
    keys = _keys(uow, request.parties, ("applicant",))
    if not keys:
        return None
    return uow.session.scalars(
        select(Case).join(CaseLegalPath, CaseLegalPath.case_id == Case.id)
        .join(CaseParty, CaseParty.case_id == Case.id).join(Party, Party.id == CaseParty.party_id)
        .where(or_(*keys), CaseParty.role == "applicant",
               CaseLegalPath.path == LegalPath.PETITION, CaseLegalPath.final_at.is_not(None))
        .order_by(CaseLegalPath.final_at.desc(), Case.id.desc())).first()


def similar_cases(uow: UnitOfWork, request: IntakeRequest, *,
                  exclude: int | None = None) -> list[str]:
    """Codes of open or watched cases sharing any party and the category (clerk confirms)."""
    now = uow.clock.now()
    out = []
    for case in _same_matter(uow, request, applicants_only=False):
        if case.id == exclude:
            continue
        if case.status != CaseStatus.CLOSED or watching(uow, case, now):
            out.append(case.case_no)
    return out


def watching(uow: UnitOfWork, case: Case, now: datetime) -> bool:
    """Closed, within the watch window, and its instance still waits for the reopen message."""
    if case.closed_at is None or case.closed_at < now - timedelta(days=REOPEN_WINDOW_DAYS):
        return False
    row = uow.session.get(InstanceRow, case.workflow_instance_id)
    return row is not None and row.status not in ("completed", "cancelled")
