"""The grid worker's phone: report an issue from one's grid, see one's reports, record a visit.

A grid worker (role ``grid_worker``) belongs to a unit placed at their grid (a 网格工作站); the
grid is the place subtree of that unit. A report:

* is checked first (category, a short description free of personal data, a building of the grid
  or a place typed in words, an optional photo that passes the attachment checks) — nothing is
  written for a refused report;
* registers through the intake (channel ``grid_app``, no applicant: the grid worker reports what
  they saw), so de-duplication by building and hotspot counting apply as to any report;
* is kept as a ``grid_report`` row with the photo attached to the case, in the same transaction.

Grid workers see their own reports only (and the cases those opened); a visit can be recorded
only on one's own report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from engine.crypto import field_aad
from engine.input_rules import text_error
from workflows.access.policy import Denied, Permission, denials_audited, require, user_id
from workflows.attachments.store import CheckedFile, add_attachment, check_file
from workflows.audit.log import AuditAction
from workflows.channels.health import record_interface_event
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.intake.location import LocationInput
from workflows.intake.register import IntakeRequest, submit_intake
from workflows.models import (
    Attachment,
    Case,
    CaseNote,
    Category,
    Channel,
    GridReport,
    GridVisit,
    Place,
    PlaceLevel,
    Submission,
    VisitOutcome,
    path_ids,
)
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

INTERFACE = "grid_app"    # the interface catalogue's code of the grid workers' app
SUMMARY_MAX, WHERE_MAX, NOTE_MAX = 200, 100, 200
MAX_BUILDINGS = 500       # a grid holds some 500 households: tens of buildings, never thousands
MAX_LISTED = 100
# the free-text fields of the grid worker's forms (their words: web/labels.py GRID_FIELD)
TEXT_FIELDS = ("summary", "where", "note")


@dataclass(frozen=True)
class GridHome:
    """The grid worker's grid: its code, names from the district down, and its buildings."""

    code: str
    names: list[str]
    buildings: list[tuple[str, str]]      # (code, name)


@dataclass
class GridReportInput:
    """What the report form sends."""

    category: str = ""
    summary: str = ""
    place_code: str = ""          # a building of the grid; "" = described in ``where``
    where: str = ""
    photo: tuple[str, bytes] | None = None   # (file name, bytes)


@dataclass(frozen=True)
class GridOutcome:
    """What a report did: its id, and the case it opened or joined."""

    report_id: int
    case_no: str
    linked_as: str


@dataclass(frozen=True)
class ReportRow:
    """One of the grid worker's reports as their list shows it."""

    id: int
    created_at: datetime
    category: str
    summary: str
    place_name: str
    case_no: str
    status: str
    linked_as: str


@dataclass(frozen=True)
class VisitRow:
    """A recorded visit."""

    outcome: str
    note: str
    visited_at: datetime


@dataclass
class ReportDetail:
    """A report with its visits and the photos the grid worker attached."""

    report: ReportRow
    visits: list[VisitRow] = field(default_factory=list)
    photos: list[int] = field(default_factory=list)        # attachment ids they may download


def _require(services: Services, actor: Actor) -> None:
    with denials_audited(services, actor, object_type="grid"):
        require(actor, Permission.REPORT_FROM_GRID)


def _grid(uow: UnitOfWork, actor: Actor) -> Place:
    """The place of the grid worker's unit (NotFound when their unit has no place)."""
    ids = path_ids(actor.unit_path)
    place = uow.session.get(Place, ids[-1]) if ids else None
    if place is None:
        raise NotFound(ErrorCode.NO_GRID)
    return place


def my_grid(uow: UnitOfWork, actor: Actor) -> GridHome:
    """The grid and its active buildings, by name."""
    _require(uow.services, actor)
    with uow:
        grid = _grid(uow, actor)
        order = {pid: index for index, pid in enumerate(path_ids(grid.path))}
        rows = uow.session.execute(select(Place.id, Place.name).where(
            Place.id.in_(path_ids(grid.path)), Place.level != PlaceLevel.CITY)).all()
        names = [name for _, name in sorted(rows, key=lambda row: order[row.id])]
        buildings = uow.session.execute(select(Place.code, Place.name).where(
            Place.path.startswith(grid.path, autoescape=True),
            Place.level == PlaceLevel.BUILDING, Place.active.is_(True))
            .order_by(Place.name).limit(MAX_BUILDINGS)).all()
        return GridHome(grid.code, names, [(code, name) for code, name in buildings])


def report_issue(services: Services, actor: Actor, data: GridReportInput) -> GridOutcome:
    """Register a grid worker's report (see the module docstring); ``InvalidInput`` names the
    form's fields."""
    _require(services, actor)
    errors: dict[str, FieldError] = {}
    summary, where = data.summary.strip(), data.where.strip()
    if data.category not in set(Category):
        errors["category"] = FieldError(FieldCode.NOT_AN_OPTION)
    if not summary:
        errors["summary"] = FieldError(FieldCode.REQUIRED)
    elif (error := text_error(summary, multiline=True, max_length=SUMMARY_MAX)) is not None:
        errors["summary"] = error
    if (error := text_error(where, max_length=WHERE_MAX)) is not None:
        errors["where"] = error
    _refuse_personal_data({"summary": summary, "where": where}, errors)
    checked = None
    if data.photo is not None:
        try:
            checked = check_file(data.photo[0], data.photo[1],
                                 services.settings.attachment_max_bytes, field="photo")
        except InvalidInput as refused:
            errors.update(refused.field_errors)
    with services.new_uow() as uow:
        place = _place(uow, actor, data.place_code.strip(), where, errors)
    if errors:
        raise InvalidInput(errors)
    assert place is not None
    request = IntakeRequest(
        channel=Channel.GRID_APP, category=data.category, summary=summary,
        description=f"{summary}（地点：{where}）" if where else summary, parties=[],
        applicant_required=False, location=LocationInput(place_code=place, detail=where or None))
    uow = _ReportUnitOfWork(services, actor, data.category, summary, checked)
    outcome = submit_intake(uow, actor, request, permission=Permission.REPORT_FROM_GRID)
    assert uow.report_id is not None and outcome.case_no is not None
    return GridOutcome(uow.report_id, outcome.case_no, outcome.kind)


def _refuse_personal_data(texts: dict[str, str], errors: dict[str, FieldError]) -> None:
    """A number or address ``pii_text`` finds in a text as ``GRID_PERSONAL_DATA`` on that field:
    the grid worker's forms have no party fields, so the words name his own field and tell him
    what to write instead (the household, not the person's details)."""
    found = pii_text.field_errors({name: pii_text.joined(text) for name, text in texts.items()})
    for name, error in found.items():
        errors.setdefault(name, FieldError(ErrorCode.GRID_PERSONAL_DATA,
                                           {**error.params, "field": name}))


def _place(uow: UnitOfWork, actor: Actor, code: str, where: str,
           errors: dict[str, FieldError]) -> str | None:
    """The code of the chosen building of the grid, else of the grid itself (with the place
    described in words: required then)."""
    grid = _grid(uow, actor)
    if not code:
        if not where:
            errors["where"] = FieldError(ErrorCode.GRID_PLACE_REQUIRED)
        return grid.code
    place = uow.session.scalars(select(Place).where(Place.code == code)).first()
    if place is None or place.level != PlaceLevel.BUILDING or not place.active \
            or not place.path.startswith(grid.path):
        errors["place_code"] = FieldError(ErrorCode.PLACE_OUTSIDE_GRID, {"code": code})
        return None
    return place.code


class _ReportUnitOfWork(UnitOfWork):
    """The intake's unit of work whose commit also keeps the report row and the photo."""

    def __init__(self, services: Services, actor: Actor, category: str, summary: str,
                 photo: CheckedFile | None):
        super().__init__(services)
        self.actor, self.category, self.summary, self.photo = actor, category, summary, photo
        self.report_id: int | None = None

    def commit(self) -> None:
        submission = next((o for o in reversed(list(self.session.identity_map.values()))
                           if isinstance(o, Submission)), None)
        if submission is not None and self.report_id is None:
            case = self.session.get(Case, submission.case_id)
            assert case is not None
            uid = user_id(self.actor)
            assert uid is not None
            report = GridReport(user_id=uid, case_id=case.id, submission_id=submission.id,
                                place_id=case.place_id, category=self.category,
                                summary=self.summary, linked_as=submission.linked_as,
                                created_at=self.clock.now())
            self.session.add(report)
            self.session.flush()
            photo = add_attachment(self, self.actor, case, self.photo) if self.photo else None
            self.audit.record(AuditAction.GRID_REPORTED, self.actor, case=case,
                              object_type="grid_report", object_id=report.id,
                              category=self.category, linked_as=submission.linked_as,
                              attachment_id=photo.id if photo is not None else None)
            record_interface_event(self, INTERFACE, True)    # the grid app is alive
            self.report_id = report.id
        super().commit()


def _rows(uow: UnitOfWork, uid: int, report_id: int | None = None) -> list[ReportRow]:
    query = (select(GridReport, Case.case_no, Case.status, Place.name)
             .join(Case, Case.id == GridReport.case_id)
             .join(Place, Place.id == GridReport.place_id)
             .where(GridReport.user_id == uid)
             .order_by(GridReport.created_at.desc(), GridReport.id.desc()).limit(MAX_LISTED))
    if report_id is not None:
        query = query.where(GridReport.id == report_id)
    return [ReportRow(r.id, r.created_at, r.category, r.summary, place, case_no, status,
                      r.linked_as) for r, case_no, status, place in uow.session.execute(query)]


def my_reports(uow: UnitOfWork, actor: Actor) -> list[ReportRow]:
    """The grid worker's newest reports with their cases' status (one query)."""
    _require(uow.services, actor)
    uid = user_id(actor)
    assert uid is not None
    with uow:
        return _rows(uow, uid)


def _own_report(uow: UnitOfWork, actor: Actor, report_id: int) -> GridReport:
    report = uow.session.get(GridReport, report_id)
    if report is None:
        raise NotFound(ErrorCode.GRID_REPORT_NOT_FOUND, report_id=report_id)
    if report.user_id != user_id(actor):
        raise Denied(ErrorCode.OWN_REPORTS_ONLY, "grid.own_report", case_id=report.case_id,
                     object_type="grid_report", object_id=report_id)
    return report


def report_detail(uow: UnitOfWork, actor: Actor, report_id: int) -> ReportDetail:
    """One of the grid worker's reports (403 audited for someone else's)."""
    _require(uow.services, actor)
    uid = user_id(actor)
    assert uid is not None
    with denials_audited(uow.services, actor, object_type="grid_report"), uow:
        report = _own_report(uow, actor, report_id)
        row = _rows(uow, uid, report.id)[0]
        visits = [VisitRow(v.outcome, v.note, v.visited_at) for v in uow.session.scalars(
            select(GridVisit).where(GridVisit.report_id == report.id)
            .order_by(GridVisit.visited_at, GridVisit.id))]
        mine = uow.session.scalar(select(Case.owner_id).where(Case.id == report.case_id)) == uid
        photos = list(uow.session.scalars(select(Attachment.id).where(
            Attachment.case_id == report.case_id, Attachment.uploaded_by == uid)
            .order_by(Attachment.id))) if mine else []
        return ReportDetail(row, visits, photos)


def record_visit(services: Services, actor: Actor, report_id: int, *, outcome: str,
                 note: str) -> VisitRow:
    """A follow-up visit on one's own report: the outcome and a short note free of personal
    data; kept on the report, written on the case as a note for its handlers, audited."""
    _require(services, actor)
    note = (note or "").strip()
    errors: dict[str, FieldError] = {}
    if outcome not in set(VisitOutcome):
        errors["outcome"] = FieldError(FieldCode.NOT_AN_OPTION)
    if not note:
        errors["note"] = FieldError(FieldCode.REQUIRED)
    elif (error := text_error(note, multiline=True, max_length=NOTE_MAX)) is not None:
        errors["note"] = error
    _refuse_personal_data({"note": note}, errors)
    uow = services.new_uow()
    with denials_audited(services, actor, object_type="grid_report"), uow:
        report = _own_report(uow, actor, report_id)
        if errors:
            raise InvalidInput(errors)
        now = uow.clock.now()
        uid = user_id(actor)
        assert uid is not None
        visit = GridVisit(report_id=report.id, case_id=report.case_id, user_id=uid,
                          outcome=outcome, note=note, visited_at=now)
        uow.session.add(visit)
        case_note = CaseNote(case_id=report.case_id, author_id=uid, created_at=now, body_enc="")
        uow.session.add(case_note)
        uow.session.flush()
        case_note.body_enc = services.cipher.encrypt(
            f"【网格员回访 {VISIT_WORDS[VisitOutcome(outcome)]}】{note}",
            aad=field_aad("case_note", "body_enc", case_note.id))
        uow.audit.record(AuditAction.GRID_VISIT_RECORDED, actor, case=report.case_id,
                         object_type="grid_visit", object_id=visit.id, report_id=report.id,
                         outcome=outcome)
        uow.commit()
        return VisitRow(outcome, note, now)


# Chinese words in the case note workflows writes itself; pages use web/labels.py
VISIT_WORDS = {VisitOutcome.RESOLVED: "已当场化解", VisitOutcome.ONGOING: "仍在处理",
               VisitOutcome.WORSE: "情况加重"}
