"""Intake from any channel with de-duplication.

* same applicant (ID-number or phone blind index) and same category while a case is open
  -> duplicate (重复件): a Submission row on the open case, no second case or work order;
* else same category at the same building near an open case (cases/location_duplicates.py)
  -> duplicate by location: the same, and the reporter is told the open case's code;
* same matter within the watch window after closure -> second complaint (二次投诉): the closed
  case is reopened through the process's reopen message, flagged, tier raised;
* otherwise a new case with its code (一案一码), started on the live version of its case type's
  process (``workflows.library.entry``: general_dispute unless a process owner mapped the
  category, and the channel, to another process) or of the process the caller named.

The case is located (``workflows.intake.location``) and its received time checked
(``workflows.intake.received``) before any of that: a bad place code, address candidates to
choose from, or a received time out of bounds are field errors and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from engine.crypto import field_aad
from workflows.access.policy import Permission, denials_audited, require, user_id
from workflows.assistant import records as assistant
from workflows.attachments.store import add_attachment, check_files
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.cases.duplicates import Matter, final_petition, same_matter
from workflows.cases.field_limits import request_errors
from workflows.cases.location_duplicates import location_master
from workflows.cases.lookup import assign_code, encrypt_narrative
from workflows.cases.parties import PartyInput, PartyVault
from workflows.cases.party_search import record_search, visible_codes
from workflows.casework.documents import generate_receipt
from workflows.casework.incidents import step_failures
from workflows.casework.legal_path import enter_path
from workflows.casework.reopen import reopen_case
from workflows.casework.steps import after_step
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.district.units import UnitResolver
from workflows.early_warning.hotspots import record_report
from workflows.intake.location import (
    NOWHERE,
    Located,
    LocationInput,
    location_text,
    resolve_location,
)
from workflows.intake.received import is_late, received_errors
from workflows.library import contract
from workflows.library.entry import entry_process, entry_version
from workflows.models import (
    STATUS_LABELS,
    Case,
    CaseNote,
    CaseParty,
    CaseStatus,
    Category,
    Channel,
    LinkBasis,
    Party,
    Place,
    Submission,
    SubmissionLink,
    Urgency,
)
from workflows.notify.case_notices import applicants, notify_applicants
from workflows.runtime.unit_of_work import UnitOfWork


@dataclass
class IntakeRequest:
    """One submission from a channel; ``description`` is personal content and stored encrypted."""

    channel: str
    category: str
    description: str
    parties: list[PartyInput]
    summary: str = ""                 # short, free of personal data (lists)
    people_count: int = 1
    urgency: str = Urgency.GENERAL
    threat: bool = False              # threat of violence / self-harm: always urgent
    emergency: bool = False           # danger to life or a crime in progress (-> 110/119/120)
    statutory_channel: bool = False   # already in litigation, arbitration, review or petition review
    channel_ref: str | None = None
    received_at: datetime | None = None
    received_late_reason: str | None = None   # required when received_at is older than the window
    location: LocationInput | None = None
    amount: Decimal | None = None             # yuan in dispute
    extra: dict[str, Any] = field(default_factory=dict)   # process start data, no personal data
    place_id: int | None = None       # internal callers: the grid or building, by id
    suggestion_shown: bool = False    # the clerk asked the assistant (workflows.assistant)
    applicant_required: bool = True   # False: a grid worker's or a sensor's own report
    process_id: str | None = None     # the process to start on; None: the case type's
    files: list[tuple[str, bytes]] = field(default_factory=list)  # (name, bytes) to attach

    @property
    def vulnerable(self) -> bool:
        """A party is elderly living alone, disabled or a minor: priority one step up."""
        return any(party.vulnerable for party in self.parties)


@dataclass
class IntakeOutcome:
    """What intake did (or, for a preview, would do)."""

    kind: str                         # new | duplicate | second_complaint
    case_no: str | None
    status: str | None
    status_label: str | None
    saved: bool = False
    submission_id: int | None = None
    candidates: list[str] = field(default_factory=list)   # similar cases for the clerk to confirm
    in_scope: bool = True             # preview: the matched case is one the clerk may see
    hidden_candidates: int = 0        # preview: similar cases outside the clerk's scope
    location: dict | None = None      # preview: {"place_code", "names", "matched"}; None: no place
    urgency_raised: bool = False      # preview: a vulnerable party makes a general case urgent
    linked_by: str | None = None      # a duplicate's basis: person | location


def preview_intake(uow: UnitOfWork, actor: Actor, request: IntakeRequest) -> IntakeOutcome:
    """What saving would do, without saving (shown to the clerk before the save button).

    The search is global, the answer scoped: a case outside the clerk's scope is reported
    without its code or status, and every preview is audited as a search (search_audit)."""
    with denials_audited(uow.services, actor, object_type="intake"):
        require(actor, Permission.REGISTER_CASE)
    check(request, uow)
    with uow:
        place = locate(uow, request)
        matter, basis = find_any_match(uow, request, place.place_id)
        match, kind = matter.match, matter.kind
        found = [match.case_no] if match is not None else matter.similar
        shown = visible_codes(uow, actor, found)
        record_search(uow, actor, request.parties, matched=len(found), shown=len(shown))
        where = location_text(uow.session, place)
        uow.commit()
        raised = request.vulnerable and not request.threat and request.urgency != Urgency.URGENT
        if match is None:
            return IntakeOutcome("new", None, None, None,
                                 candidates=[c for c in found if c in shown],
                                 hidden_candidates=len(found) - len(shown), location=where,
                                 urgency_raised=raised)
        if match.case_no not in shown:
            return IntakeOutcome(str(kind), None, None, None, in_scope=False, linked_by=basis,
                                 location=where)
        return IntakeOutcome(str(kind), match.case_no, match.status,
                             STATUS_LABELS.get(match.status), linked_by=basis, location=where)


def submit_intake(uow: UnitOfWork, actor: Actor, request: IntakeRequest, *,
                  process_id: str | None = None,
                  permission: Permission = Permission.REGISTER_CASE) -> IntakeOutcome:
    """Register a submission: a new case, a linked duplicate, or a reopened closed case.
    ``permission``: the right the caller needs (a grid worker reports with their own)."""
    with denials_audited(uow.services, actor, object_type="intake"):
        require(actor, permission)
    check(request, uow)
    checked = check_files(request.files, uow.services.settings.attachment_max_bytes)
    process_id = process_id or request.process_id
    with step_failures(uow.services, actor, None, source="intake", process_id=process_id), uow:
        refuse_final_petition(uow, request)
        place = locate(uow, request)
        matter, basis = find_any_match(uow, request, place.place_id)
        match, kind = matter.match, matter.kind
        reporter, found = None, None
        if match is None:
            case, found = _open(uow, actor, request, process_id=process_id, place=place,
                                similar=matter.similar)
        elif kind == SubmissionLink.DUPLICATE:
            case, reporter = link_duplicate(uow, actor, match, request, basis=basis)
        else:
            case = reopen_case(uow, actor, match, request)
        link = str(kind) if match is not None else SubmissionLink.NEW
        # a linked case of another unit: the clerk is told it was linked, not its code or page
        in_scope = match is None or case.case_no in visible_codes(uow, actor, [case.case_no])
        submission = _submission(uow, case, request, link, basis, reporter, found)
        record_report(uow, actor, case, submission)
        for checked_file in checked:
            add_attachment(uow, actor, case, checked_file)
        assistant.record(uow, actor, case, submission, request.description, request.category,
                         shown=request.suggestion_shown)
        uow.commit()
        return IntakeOutcome(str(link), case.case_no, case.status,
                             STATUS_LABELS.get(case.status), True, submission.id,
                             in_scope=in_scope, linked_by=basis)


def refuse_final_petition(uow: UnitOfWork, request: IntakeRequest) -> None:
    """A petition whose applicant's earlier petition was answered on 复核 is refused, naming that
    case (信访工作条例 Art 36: the same facts and reasons are not accepted again)."""
    if request.category != Category.PETITION and request.channel != Channel.PETITION_TRANSFER:
        return
    earlier = final_petition(uow, request)
    if earlier is not None:
        raise InvalidInput({"category": FieldError(ErrorCode.PETITION_FINAL,
                                                   {"case_no": earlier.case_no})})


def find_any_match(uow: UnitOfWork, request: IntakeRequest, place_id: int | None
                   ) -> tuple[Matter, str | None]:
    """(what was found, basis): the person rules first, then the same building's open case."""
    matter = same_matter(uow, request)
    if matter.match is not None:
        return matter, LinkBasis.PERSON if matter.kind == SubmissionLink.DUPLICATE else None
    master = location_master(uow, place_id, request.category,
                             request.received_at or uow.clock.now(),
                             urgent=request.threat or request.emergency)
    if master is not None:
        return replace(matter, match=master, kind=SubmissionLink.DUPLICATE), LinkBasis.LOCATION
    return matter, None


def locate(uow: UnitOfWork, request: IntakeRequest) -> Located:
    """The case's place (InvalidInput for a bad code or address candidates to choose from);
    an internal caller may name the place by its id instead."""
    if request.location is None and request.place_id is not None:
        place = uow.session.get(Place, request.place_id)
        return Located(place.id, place.path, None, "code") if place is not None else NOWHERE
    return resolve_location(uow.session, request.location,
                            min_score=uow.services.settings.address_match_min)


def local_today(uow: UnitOfWork) -> date:
    """Today in the deployment's time zone (birth dates are local dates)."""
    return uow.clock.now().astimezone(ZoneInfo(uow.services.settings.timezone)).date()


def check(request: IntakeRequest, uow: UnitOfWork | None = None) -> None:
    """Field errors of the request itself (parties are checked by the vault); with a unit of
    work also the received time against its clock."""
    errors: dict[str, FieldError] = {}
    if request.channel not in set(Channel):
        errors["channel"] = FieldError(FieldCode.NOT_AN_OPTION)
    if not request.category:
        errors["category"] = FieldError(FieldCode.REQUIRED)
    if not request.description.strip():
        errors["description"] = FieldError(FieldCode.REQUIRED)
    if request.people_count < 1:
        errors["people_count"] = FieldError(FieldCode.TOO_SMALL, {"limit": 1})
    if request.urgency not in set(Urgency):
        errors["urgency"] = FieldError(FieldCode.NOT_AN_OPTION)
    if request.applicant_required and not any(p.role == "applicant" for p in request.parties):
        errors["parties"] = FieldError(ErrorCode.APPLICANT_REQUIRED)
    today = local_today(uow) if uow is not None else None
    for index, party in enumerate(request.parties):
        try:
            PartyVault.clean(party, prefix=f"parties-{index}-", today=today)
        except InvalidInput as exc:
            errors.update(exc.field_errors)
    errors.update(request_errors(request))  # enumerations and lengths of the stored columns
    if uow is not None:
        errors.update(received_errors(request.received_at, request.received_late_reason,
                                      uow.clock.now(), uow.services.settings))
    if errors:
        raise InvalidInput(errors)


# -- the three outcomes -------------------------------------------------------------------------
def case_urgency(request: IntakeRequest) -> str:
    """A threat is always urgent; a vulnerable party raises a general case one step, to urgent
    (the 2 h instead of the 24 h response limit)."""
    if request.threat or request.vulnerable:
        return Urgency.URGENT
    return request.urgency


def open_case(uow: UnitOfWork, actor: Actor, request: IntakeRequest, *,
              process_id: str | None = None, place: Located = NOWHERE) -> Case:
    """A new case with its parties, started on the live version of ``process_id`` or else of
    its case type's process (an entry process without an active version is a field error, not
    a 404: nothing is saved).

    ``opened_at`` is the received time (the response limits run from it), ``registered_at``
    the moment of this registration."""
    return _open(uow, actor, request, process_id=process_id, place=place)[0]


def _open(uow: UnitOfWork, actor: Actor, request: IntakeRequest, *,
          process_id: str | None = None, place: Located = NOWHERE,
          similar: list[str] | None = None) -> tuple[Case, list[tuple[str, str]]]:
    """``open_case`` and the (party id, role) of its parties; ``similar``: the similar cases'
    codes when the caller already looked them up."""
    services = uow.services
    process_id, version_id = startable_process(uow, request, process_id)
    if similar is None:
        similar = same_matter(uow, request).similar
    now = uow.clock.now()
    late = is_late(request.received_at, now, services.settings)
    case = Case(channel=request.channel, channel_ref=request.channel_ref,
                category=request.category, urgency=case_urgency(request),
                people_count=request.people_count, summary=request.summary[:200],
                status=CaseStatus.REGISTERED, owner_id=user_id(actor),
                opened_at=request.received_at or now, registered_at=now,
                received_late_reason=(request.received_late_reason or "").strip() or None
                if late else None,
                place_id=place.place_id, place_path=place.place_path,
                location_detail=place.detail, amount=request.amount,
                work_orders=[])   # a new case has none: its projection need not load them
    # the narrative is bound to the code, so it is encrypted before the one INSERT
    assign_code(uow.session, case, now, services.settings.timezone)
    case.narrative_enc = encrypt_narrative(services, case.case_no, request.description)
    uow.session.add(case)
    uow.session.flush()
    stored = _store_parties(uow, actor, case, request.parties)
    party_ids = [(party.id, role) for party, role in stored]
    data = start_data(case, request, party_ids)
    data["duplicate_candidates"] = similar
    row, inst = uow.start_instance(process_id, data=data, actor=actor, case=case,
                                   version_id=version_id)
    record_input(uow, AuditAction.CASE_OPENED, actor, case, inst, object_type="case",
                 object_id=case.case_no, process_version_id=row.process_version_id,
                 process_id=process_id, initial_data=data, channel=case.channel,
                 category=case.category, urgency=case.urgency, people_count=case.people_count,
                 parties=[{"id": pid, "role": role} for pid, role in party_ids],
                 received_at=case.opened_at.isoformat(),
                 received_late_reason=case.received_late_reason,
                 place_id=case.place_id, located_by=place.matched,
                 urgency_raised="vulnerable_party" if request.vulnerable and not request.threat
                 and request.urgency != Urgency.URGENT else None)
    path = contract.LEGAL_PATH_PROCESSES.get(process_id)
    if path:   # a matter that arrives as a petition is followed on the path from intake
        enter_path(uow, actor, case, path, via="intake", outcome=None)
    notify_applicants(uow, case, "receipt", party_ids)   # the parties are still held: no reload
    # the link is written with the fields the projection sets, in one UPDATE: nothing may flush
    # in between (the units it reads first are read here, before the link)
    UnitResolver.cached(uow.session, case.place_path)
    case.workflow_instance_id = row.id
    after_step(uow, case, inst)
    generate_receipt(uow, actor, case, stored)
    return case, party_ids


def startable_process(uow: UnitOfWork, request: IntakeRequest, process_id: str | None
                      ) -> tuple[str, int]:
    """The process a new case starts on and the id of its live version (the one the instance
    starts on); InvalidInput when it has no active version."""
    named = process_id or request.process_id
    if not named:   # the usual way: the case type's live version in one statement
        found = entry_version(uow.session, request.category, request.channel)
        if found is not None:
            return found
    chosen = named or entry_process(uow.session, request.category, request.channel)
    try:
        return chosen, uow.live_version(chosen).id
    except NotFound:
        raise InvalidInput({"process_id" if named else "category":
                            FieldError(ErrorCode.PROCESS_NOT_STARTABLE)}) from None


def start_data(case: Case, request: IntakeRequest, party_ids: list[tuple[str, str]]) -> dict:
    """Start data of the process: codes, routing inputs and party ids, never personal data."""
    data = contract.start_data(case_id=case.id, case_no=case.case_no, category=request.category,
                        urgency=case.urgency, people_count=case.people_count,
                        emergency=request.emergency,
                        statutory_channel=request.statutory_channel,
                        party_ids=[pid for pid, _ in party_ids],
                        received_at=case.opened_at.isoformat())
    return {**request.extra, **data}


def _store_parties(uow: UnitOfWork, actor: Actor, case: Case,
                   parties: list[PartyInput]) -> list[tuple[Party, str]]:
    """(party, role) of the case; the caller holds the rows (the session only keeps weak
    references to unchanged rows: a dropped one is read again on the next ``get``)."""
    vault = PartyVault.of(uow.services)
    out: list[tuple[Party, str]] = []
    for data in parties:
        values = vault.clean(data, today=local_today(uow))
        existing = vault.find(uow.session, id_number=values["id_number"]) \
            if values.get("id_number") else []
        party = existing[0] if existing else vault.new_party(data)
        if not existing:
            uow.session.add(party)
        elif data.vulnerable:  # a known person who is now vulnerable: called from now on
            party.vulnerable = sorted(set(party.vulnerable or []) | set(data.vulnerable))
            party.contact_preference = data.contact
        uow.session.flush()
        if (party.id, data.role) not in [(p.id, r) for p, r in out]:
            uow.session.add(CaseParty(case_id=case.id, party_id=party.id, role=data.role))
            out.append((party, data.role))
            uow.audit.record(AuditAction.PARTY_REGISTERED, actor, case=case,
                             object_type="party", object_id=party.id, role=data.role,
                             reused=bool(existing), kind=data.kind,
                             fields=[f for f in ("name", "id_number", "phone", "address",
                                                 "birth_date", "credit_code") if values.get(f)])
    uow.session.flush()
    return out


def link_duplicate(uow: UnitOfWork, actor: Actor, master: Case, request: IntakeRequest, *,
                   basis: str | None = LinkBasis.PERSON) -> tuple[Case, str | None]:
    """Link a repeat submission to the open master case: new facts as a note, no work order.
    Returns the master and, for a link by location, the reporter's party id (the reporter is
    somebody else than the master's applicants: stored, told the master's code)."""
    services = uow.services
    note = CaseNote(case_id=master.id, author_id=user_id(actor), created_at=uow.clock.now(),
                    body_enc="")
    uow.session.add(note)
    uow.session.flush()
    note.body_enc = services.cipher.encrypt(
        f"【重复件 {request.channel}】{request.description}",
        aad=field_aad("case_note", "body_enc", note.id))
    uow.audit.record(AuditAction.SUBMISSION_LINKED, actor, case=master, object_type="case",
                     object_id=master.case_no, linked_as="duplicate", linked_by=basis,
                     channel=request.channel, channel_ref=request.channel_ref)
    if basis != LinkBasis.LOCATION:
        notify_applicants(uow, master, "duplicate_linked")
        return master, None
    reporter = _store_reporter(uow, actor, master, request.parties)
    if reporter is not None:
        notify_applicants(uow, master, "duplicate_linked", [(reporter, "applicant")])
    return master, reporter


def _store_reporter(uow: UnitOfWork, actor: Actor, master: Case,
                    parties: list[PartyInput]) -> str | None:
    """The first applicant of a report linked by location, as a party of no case (the
    submission names it); an ID number already on file reuses its party."""
    data = next((p for p in parties if p.role == "applicant"), None)
    if data is None:
        return None
    vault = PartyVault.of(uow.services)
    values = vault.clean(data)
    existing = vault.find(uow.session, id_number=values["id_number"]) \
        if values.get("id_number") else []
    party = existing[0] if existing else vault.new_party(data)
    if not existing:
        uow.session.add(party)
        uow.session.flush()
    uow.audit.record(AuditAction.PARTY_REGISTERED, actor, case=master, object_type="party",
                     object_id=party.id, role=data.role, reused=bool(existing),
                     linked_by=LinkBasis.LOCATION,
                     fields=[f for f in ("name", "id_number", "phone", "address") if values.get(f)])
    return party.id


def _submission(uow: UnitOfWork, case: Case, request: IntakeRequest, kind: str,
                basis: str | None = None, reporter: str | None = None,
                parties: list[tuple[str, str]] | None = None) -> Submission:
    """The submission row; its party is the reporter, else the case's first applicant
    (``parties``: a new case's own, already known)."""
    if reporter:
        found = [(reporter, "applicant")]
    elif parties is not None:
        found = [(pid, role) for pid, role in parties if role == "applicant"]
    else:
        found = applicants(uow, case)
    row = Submission(case_id=case.id, channel=request.channel, channel_ref=request.channel_ref,
                     received_at=request.received_at or uow.clock.now(),
                     party_id=found[0][0] if found else None,
                     summary=request.summary[:200], linked_as=str(kind), linked_by=basis)
    uow.session.add(row)
    uow.session.flush()
    return row
