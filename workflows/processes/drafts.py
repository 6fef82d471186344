"""Process drafts: BPMN/DMN files a process owner is still editing; never executed.

Only logical file names and sizes are checked when saving (a draft may be unfinished); the full
validation runs when the draft is validated, dry-run or deployed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from engine.bpmn_parser import BPMN_NS
from engine.input_rules import INT64_MAX, has_bad_characters, int_error, text_error
from engine.specs import LOGICAL_NAME, MAX_BUNDLE_BYTES, bundle_sha256
from engine.xmlsafe import MAX_BYTES
from workflows.access.policy import require_owner
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldCode, FieldError, InvalidInput, NotFound
from workflows.library.graph import parse_or_none
from workflows.models.drafts import ProcessDraft
from workflows.runtime.unit_of_work import UnitOfWork


@dataclass
class DraftInfo:
    """A saved draft (without its file contents)."""

    id: int
    process_id: str | None
    title: str
    files: list[str]
    base_version_id: int | None
    updated_by: str
    updated_at: datetime

    def as_dict(self) -> dict:
        return {"id": self.id, "process_id": self.process_id, "title": self.title,
                "files": self.files, "base_version_id": self.base_version_id,
                "updated_by": self.updated_by, "updated_at": self.updated_at.isoformat()}


def list_drafts(uow: UnitOfWork) -> list[DraftInfo]:
    rows = uow.session.scalars(select(ProcessDraft).order_by(ProcessDraft.updated_at.desc()))
    return [DraftInfo(d.id, d.process_id, d.title, sorted(d.files), d.base_version_id,
                      d.updated_by, d.updated_at) for d in rows]


# -- drafts ---------------------------------------------------------------------------------------
def save_draft(uow: UnitOfWork, actor: Actor, files: Mapping[str, str | bytes], *,
               draft_id: int | None = None, title: str | None = None,
               base_version_id: int | None = None, note: str | None = None) -> DraftInfo:
    """Create or overwrite a draft; only names and sizes are checked (drafts may be unfinished)."""
    require_owner(actor, uow.services)
    texts = _draft_texts(files)
    _check_fields(draft_id=draft_id, base_version_id=base_version_id, title=title, note=note)
    with uow:
        now, who = uow.clock.now(), actor.username or actor.type
        draft = _draft(uow, draft_id) if draft_id else None
        if draft is None:
            draft = ProcessDraft(created_by=who, created_at=now, version_id=1,
                                 base_version_id=base_version_id)
            uow.session.add(draft)
        draft.files, draft.updated_by, draft.updated_at = texts, who, now
        draft.process_id = main_process(texts) or draft.process_id
        draft.title = (title or draft.title or draft.process_id or "草稿")[:200]
        if note is not None:
            draft.note = note
        uow.session.flush()
        info = DraftInfo(draft.id, draft.process_id, draft.title, sorted(texts),
                         draft.base_version_id, who, now)
        uow.commit()
    return info


def _check_fields(**values: object) -> None:
    """The editor's JSON fields: ids as whole numbers a column holds, title and note as text."""
    errors = {}
    for name, value in values.items():
        if value is None:
            continue
        if name.endswith("_id"):
            if isinstance(value, bool) or not isinstance(value, int):
                errors[name] = FieldError(FieldCode.NOT_INTEGER)
            elif (error := int_error(value, 1, INT64_MAX)) is not None:
                errors[name] = error
        elif not isinstance(value, str):
            errors[name] = FieldError(FieldCode.NOT_TEXT)
        elif (error := text_error(value, multiline=name == "note",
                                  max_length=200 if name == "title" else 5000)) is not None:
            errors[name] = error
    # a process owner's title and note are free text like a case summary: no personal data
    personal = pii_text.field_errors(values, [n for n in ("title", "note") if n not in errors])
    if errors or personal:
        raise InvalidInput({**errors, **personal})


def _draft_texts(files: Mapping[str, str | bytes]) -> dict[str, str]:
    errors, texts = {}, {}
    for name, data in files.items():
        raw = data.encode("utf-8") if isinstance(data, str) else data
        if not LOGICAL_NAME.match(name):
            errors[name] = FieldError(ErrorCode.BAD_FILE_NAME)
        elif len(raw) > MAX_BYTES:
            errors[name] = FieldError(ErrorCode.FILE_TOO_LARGE, {"limit": "2 MiB"})
        else:
            try:
                texts[name] = raw.decode("utf-8")
            except UnicodeDecodeError:
                errors[name] = FieldError(ErrorCode.NOT_UTF8)
                continue
            if has_bad_characters(texts[name], multiline=True):
                errors[name] = FieldError(FieldCode.BAD_CHARACTERS)
    if not files:
        errors["files"] = FieldError(ErrorCode.DRAFT_EMPTY)
    elif sum(len(t.encode("utf-8")) for t in texts.values()) > MAX_BUNDLE_BYTES:
        errors["files"] = FieldError(ErrorCode.FILES_TOO_LARGE, {"limit": "10 MiB"})
    if errors:
        raise InvalidInput(errors)
    return texts


def main_process(files: Mapping[str, str]) -> str | None:
    """The first executable process that no call activity of the bundle calls."""
    called: set[str] = set()
    candidates: list[str] = []
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        root = parse_or_none(files[name], name)
        if root is None:
            continue
        called.update(el.get("calledElement") for el in root.iter(f"{{{BPMN_NS}}}callActivity"))
        candidates.extend(p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process")
                          if p.get("isExecutable", "true") != "false")
    return next((pid for pid in candidates if pid not in called), None)


def _draft(uow: UnitOfWork, draft_id: int) -> ProcessDraft:
    draft = uow.session.get(ProcessDraft, int(draft_id))
    if draft is None:
        raise NotFound(ErrorCode.DRAFT_NOT_FOUND, draft_id=draft_id)
    return draft


def open_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> tuple[DraftInfo, dict[str, str]]:
    """A draft's description and files."""
    require_owner(actor, uow.services)
    with uow:
        d = _draft(uow, draft_id)
        return (DraftInfo(d.id, d.process_id, d.title, sorted(d.files), d.base_version_id,
                          d.updated_by, d.updated_at), dict(d.files))


def delete_draft(uow: UnitOfWork, actor: Actor, draft_id: int) -> None:
    require_owner(actor, uow.services)
    with uow:
        uow.session.delete(_draft(uow, draft_id))
        uow.commit()


def close_deployed(uow: UnitOfWork, sha256: str) -> list[int]:
    """Remove the drafts whose files are exactly a bundle just deployed (inside the deploy's
    transaction: a deployed draft is closed whichever way it was deployed). Returns their ids."""
    closed = []
    for draft in uow.session.scalars(select(ProcessDraft)):
        if bundle_sha256(draft.files or {}) == sha256:
            closed.append(draft.id)
            uow.session.delete(draft)
    return closed


def stale_drafts(uow: UnitOfWork, actor: Actor, days: int | None = None) -> list[DraftInfo]:
    """Drafts nobody saved for ``days`` (default: the ``draft_stale_days`` setting), oldest first."""
    require_owner(actor, uow.services)
    days = uow.services.settings.draft_stale_days if days is None else days
    with uow:
        cutoff = uow.clock.now() - timedelta(days=days)
        rows = uow.session.scalars(select(ProcessDraft).where(ProcessDraft.updated_at < cutoff)
                                   .order_by(ProcessDraft.updated_at))
        return [DraftInfo(d.id, d.process_id, d.title, sorted(d.files), d.base_version_id,
                          d.updated_by, d.updated_at) for d in rows]


def delete_stale(uow: UnitOfWork, actor: Actor, draft_ids: list[int],
                 days: int | None = None) -> int:
    """Delete the listed drafts that are still stale (one saved meanwhile is kept); returns how
    many were deleted."""
    stale = {d.id for d in stale_drafts(uow, actor, days)}
    with uow:
        gone = 0
        for draft_id in draft_ids:
            if draft_id in stale and (draft := uow.session.get(ProcessDraft, draft_id)):
                uow.session.delete(draft)
                gone += 1
        uow.audit.record(AuditAction.DRAFTS_CLEANED, actor, object_type="process_draft",
                         drafts=sorted(set(draft_ids) & stale))
        uow.commit()
    return gone


