"""Case types (案件类型): the process owners' table of which process a new case starts on.

A row maps a category, for every channel or for one, to a process with an active version;
intake reads it through ``workflows.library.entry``. Every change is audited
(``case_type_changed``) and only process owners may make one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.input_rules import text_error
from engine.models import ProcessVersion
from workflows.access.policy import denials_audited, require_owner
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.library.contract import DEFAULT_CASE_TYPES, TOP_PROCESS
from workflows.library.entry import ANY_CHANNEL, has_active_version
from workflows.library.graph import process_names
from workflows.models import CaseType, Category, Channel
from workflows.runtime.unit_of_work import UnitOfWork

MAX_NOTE = 200


@dataclass(frozen=True)
class CaseTypeRow:
    """One row as the page shows it."""

    id: int | None           # None: a shipped default (no row; a row overrides it)
    category: str
    channel: str
    process_id: str
    process_name: str
    startable: bool
    note: str
    updated_at: datetime | None
    shipped: bool = False


@dataclass(frozen=True)
class EntryChoice:
    """A process a case type may point to: deployed, with an active version."""

    process_id: str
    name: str


def list_case_types(uow: UnitOfWork, actor: Actor) -> list[CaseTypeRow]:
    """Every case type, by category then channel (``""``, any channel, first)."""
    require_owner(actor, uow.services)
    with uow:
        rows = uow.session.scalars(select(CaseType).order_by(CaseType.category,
                                                             CaseType.channel)).all()
        names = _names(uow)
        out = [CaseTypeRow(r.id, r.category, r.channel, r.process_id,
                           names.get(r.process_id, r.process_id),
                           has_active_version(uow.session, r.process_id), r.note, r.updated_at)
               for r in rows]
        overridden = {r.category for r in rows if r.channel == ANY_CHANNEL}
        shipped = [CaseTypeRow(None, category, ANY_CHANNEL, process_id,
                               names.get(process_id, process_id),
                               has_active_version(uow.session, process_id), "", None,
                               shipped=True)
                   for category, process_id in DEFAULT_CASE_TYPES.items()
                   if category not in overridden]
        return sorted([*out, *shipped], key=lambda r: (r.category, r.channel))


def entry_choices(uow: UnitOfWork, actor: Actor) -> list[EntryChoice]:
    """The processes with an active version (the default first)."""
    require_owner(actor, uow.services)
    with uow:
        names = _names(uow)
    return sorted((EntryChoice(pid, name) for pid, name in names.items()),
                  key=lambda c: (c.process_id != TOP_PROCESS, c.process_id))


def _names(uow: UnitOfWork) -> dict[str, str]:
    """process id -> its name in the newest active version's files."""
    versions = uow.session.scalars(select(ProcessVersion).where(ProcessVersion.status == "active")
                                   .order_by(ProcessVersion.process_id,
                                             ProcessVersion.version.desc())).all()
    out: dict[str, str] = {}
    for version in versions:
        if version.process_id not in out:
            out[version.process_id] = process_names(version.source_files).get(
                version.process_id) or version.process_id
    return out


def save_case_type(uow: UnitOfWork, actor: Actor, *, category: str, process_id: str,
                   channel: str = ANY_CHANNEL, note: str = "") -> int:
    """Point a category (for one channel, or any) at a process; the row for the same category and
    channel is replaced. Returns the row id."""
    require_owner(actor, uow.services)
    channel, note, process_id = (channel or "").strip(), (note or "").strip(), \
        (process_id or "").strip()
    errors: dict[str, FieldError] = {}
    if category not in {str(c) for c in Category}:
        errors["category"] = FieldError(FieldCode.NOT_AN_OPTION)
    if channel and channel not in {str(c) for c in Channel}:
        errors["channel"] = FieldError(FieldCode.NOT_AN_OPTION)
    if (error := text_error(note, max_length=MAX_NOTE)) is not None and note:
        errors["note"] = error
    with denials_audited(uow.services, actor, object_type="case_type"), uow:
        if not process_id:
            errors["process_id"] = FieldError(FieldCode.REQUIRED)
        elif not has_active_version(uow.session, process_id):
            errors["process_id"] = FieldError(ErrorCode.PROCESS_NOT_STARTABLE)
        if errors:
            raise InvalidInput(errors)
        if note:
            pii_text.refuse(note=note)
        row = uow.session.scalars(select(CaseType).where(
            CaseType.category == category, CaseType.channel == channel)).first()
        before = row.process_id if row is not None else None
        if row is None:
            row = CaseType(category=category, channel=channel, process_id=process_id)
            uow.session.add(row)
        row.process_id, row.note = process_id, note
        row.updated_at, row.updated_by = uow.clock.now(), actor.username or actor.type
        uow.session.flush()
        ident = row.id
        uow.audit.record(AuditAction.CASE_TYPE_CHANGED, actor, object_type="case_type",
                         object_id=ident, category=category, channel=channel or None,
                         before=before, after=process_id)
        uow.commit()
    return ident


def delete_case_type(uow: UnitOfWork, actor: Actor, case_type_id: int) -> None:
    """Remove a row: the category's cases start on the default process again."""
    require_owner(actor, uow.services)
    with uow:
        row = uow.session.get(CaseType, case_type_id)
        if row is None:
            raise NotFound(ErrorCode.CASE_TYPE_NOT_FOUND, case_type_id=case_type_id)
        uow.audit.record(AuditAction.CASE_TYPE_CHANGED, actor, object_type="case_type",
                         object_id=row.id, category=row.category,
                         channel=row.channel or None, before=row.process_id, after=None)
        uow.session.delete(row)
        uow.commit()
