"""De-duplication of intake submissions.

* exact match — an applicant of the submission is an applicant of a case (ID-number or phone blind
  index) with the same category: an open case (within the window) -> duplicate; a case closed
  within its watch window -> second complaint. Linked automatically by the intake service.
* similar — any party of the submission is a party of an open or watched case with the same
  category, in any role (e.g. the respondent complains back): the case codes are handed to the
  process as ``duplicate_candidates`` and the clerk confirms in ``confirm_duplicate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, literal, or_, select
from sqlalchemy import case as sql_case

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
MATTER_ROWS = 50         # newest (case, party) rows read for one submission


def _keys(uow: UnitOfWork, parties: list[PartyInput],
          roles: tuple[str, ...] | None) -> list[ColumnElement[bool]]:
    return [getattr(Party, column) == value for column, value in _indexes(uow, parties, roles)]


def _indexes(uow: UnitOfWork, parties: list[PartyInput],
             roles: tuple[str, ...] | None) -> set[tuple[str, str]]:
    """(blind index column, value) of the parties in ``roles`` (None: every party)."""
    vault = PartyVault.of(uow.services)
    out: set[tuple[str, str]] = set()
    for party in parties:
        if roles is None or party.role in roles:
            values = vault.clean(party)
            index = vault.indexes(phone=values.get("phone"), id_number=values.get("id_number"))
            out.update(index.items())
    return out


@dataclass
class Matter:
    """What the person rule found for a submission: the case it links to (``kind`` duplicate or
    second complaint) and the codes of similar cases for the clerk to confirm."""

    match: Case | None = None
    kind: str | None = None
    similar: list[str] = field(default_factory=list)


def same_matter(uow: UnitOfWork, request: IntakeRequest) -> Matter:
    """Both person rules from one indexed query (blind indexes -> case_party -> case), newest
    first and limited: only open cases and cases closed within the watch window can match.

    * exact: an applicant of the submission is an applicant of the case: the first open case
      received within the duplicate window (duplicate) or watched closed case (second
      complaint);
    * similar: any party of the submission is a party of the case, in any role.

    The duplicate window runs between the received times: the open case's (``opened_at``) and
    this submission's (now when the channel gave none)."""
    every = _indexes(uow, request.parties, None)
    if not every:
        return Matter()
    applicant_keys = _indexes(uow, request.parties, ("applicant",))
    now = uow.clock.now()
    received = request.received_at or now
    window = timedelta(days=uow.services.settings.duplicate_window_days)
    # the exact rule's rows first: many newer cases naming the same respondent must not push
    # the applicant's own case out of the limit
    exact_first = sql_case(
        (and_(CaseParty.role == "applicant",
              or_(*(getattr(Party, column) == value for column, value in applicant_keys))), 0),
        else_=1) if applicant_keys else literal(1)
    rows = uow.session.execute(
        select(Case, CaseParty.role, Party.phone_bidx, Party.id_number_bidx)
        .join(CaseParty, CaseParty.case_id == Case.id).join(Party, Party.id == CaseParty.party_id)
        .where(or_(*(getattr(Party, column) == value for column, value in every)),
               Case.category == request.category, Case.duplicate_of_id.is_(None),
               or_(Case.status != CaseStatus.CLOSED,
                   Case.closed_at >= now - timedelta(days=REOPEN_WINDOW_DAYS)))
        .order_by(exact_first, Case.opened_at.desc(), Case.id.desc()).limit(MATTER_ROWS)).all()
    found = Matter()
    watched: dict[int, bool] = {}
    for case, role, phone, id_number in rows:
        live = case.status != CaseStatus.CLOSED
        if not live and case.id not in watched:
            watched[case.id] = watching(uow, case, now)
        if not (live or watched[case.id]):
            continue
        if case.case_no not in found.similar:
            found.similar.append(case.case_no)
        exact = role == "applicant" and bool(
            {("phone_bidx", phone), ("id_number_bidx", id_number)} & applicant_keys)
        if found.match is None and exact:
            if not live:
                found.match, found.kind = case, SubmissionLink.SECOND_COMPLAINT
            elif case.opened_at >= received - window:
                found.match, found.kind = case, SubmissionLink.DUPLICATE
    return found


def find_match(uow: UnitOfWork, request: IntakeRequest) -> tuple[Case | None, str | None]:
    """The open case (duplicate) or recently closed case (second complaint) of the same matter."""
    found = same_matter(uow, request)
    return found.match, found.kind


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


def similar_cases(uow: UnitOfWork, request: IntakeRequest) -> list[str]:
    """Codes of open or watched cases sharing any party and the category (clerk confirms)."""
    return same_matter(uow, request).similar


def watching(uow: UnitOfWork, case: Case, now: datetime) -> bool:
    """Closed, within the watch window, and its instance still waits for the reopen message."""
    if case.closed_at is None or case.closed_at < now - timedelta(days=REOPEN_WINDOW_DAYS):
        return False
    row = uow.session.get(InstanceRow, case.workflow_instance_id)
    return row is not None and row.status not in ("completed", "cancelled")
