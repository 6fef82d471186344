"""Process owners' catalogue: versions, approval, retirement and diffs (docs/process-owners.md).

Deployed versions are immutable (only their status moves: pending -> active -> retired); drafts
are files being edited and are never executed. Only process owners (and internal actors such as
the CLI) may use these services; a denial (``policy.Denied``) is audited where it is turned into a
403 (web/errors.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select

from engine.diff import BundleDiff, diff_bundles
from engine.models import InstanceRow, ProcessVersion
from engine.specs import bundle_sha256
from workflows.access.policy import Denied, denials_audited, require_owner
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.library.entry import entry_processes
from workflows.library.graph import decision_names, process_names
from workflows.models import VERSION_STATUS_LABELS, User
from workflows.processes.deploy import deploy_bundle
from workflows.processes.drafts import delete_draft, list_drafts, open_draft
from workflows.runtime.unit_of_work import UnitOfWork

FINISHED = ("completed", "cancelled")
INTERNAL = ("system", "scheduler")


# -- read models ----------------------------------------------------------------------------------
@dataclass
class VersionInfo:
    """One deployed version as the catalogue shows it."""

    id: int
    process_id: str
    version: int
    sha256: str
    status: str
    deployed_by: str | None
    deployed_at: datetime
    note: str | None
    files: list[str]
    running: int = 0
    finished: int = 0
    live: bool = False
    deployed_by_name: str | None = None  # the deployer's name (a deleted account: None)

    @property
    def status_label(self) -> str:
        return VERSION_STATUS_LABELS.get(self.status, self.status)

    def as_dict(self) -> dict:
        return {"id": self.id, "process_id": self.process_id, "version": self.version,
                "sha256": self.sha256, "status": self.status, "deployed_by": self.deployed_by,
                "deployed_at": self.deployed_at.isoformat(), "note": self.note,
                "files": self.files, "running_cases": self.running,
                "finished_cases": self.finished, "live": self.live}


@dataclass
class ProcessEntry:
    """A top-level process: every version, the live one and the drafts."""

    process_id: str
    name: str
    versions: list[VersionInfo] = field(default_factory=list)
    drafts: list = field(default_factory=list)  # workflows.processes.drafts.DraftInfo

    @property
    def live(self) -> VersionInfo | None:
        return next((v for v in self.versions if v.live), None)

    def as_dict(self) -> dict:
        live = self.live
        return {"process_id": self.process_id, "name": self.name,
                "live_version": live.version if live else None,
                "versions": [v.as_dict() for v in self.versions],
                "drafts": [d.as_dict() for d in self.drafts]}


@dataclass
class DecisionEntry:
    """A decision table and the deployed versions that carry it (by content)."""

    decision_id: str
    name: str
    file: str
    variants: list[dict] = field(default_factory=list)  # {sha256, used_by: ["name vN", ...]}

    def as_dict(self) -> dict:
        return {"decision_id": self.decision_id, "name": self.name, "file": self.file,
                "variants": self.variants}


def catalogue(uow: UnitOfWork, actor: Actor) -> list[ProcessEntry]:
    """Every process with its versions (case counts per version), live version and drafts."""
    require_owner(actor, uow.services)
    with uow:
        rows = uow.session.scalars(select(ProcessVersion)
                                   .order_by(ProcessVersion.process_id,
                                             ProcessVersion.version.desc())).all()
        counts = _case_counts(uow)
        people = dict(uow.session.execute(select(User.username, User.display_name).where(
            User.username.in_({row.deployed_by for row in rows if row.deployed_by}))).all())
        entries: dict[str, ProcessEntry] = {}
        for row in rows:
            entry = entries.get(row.process_id)
            if entry is None:
                name = process_names(row.source_files).get(row.process_id) or row.process_id
                entry = entries[row.process_id] = ProcessEntry(row.process_id, name)
            info = _version_info(row, counts)
            info.deployed_by_name = people.get(row.deployed_by or "")
            entry.versions.append(info)
        for entry in entries.values():
            _mark_live(entry)
        for draft in list_drafts(uow):
            key = draft.process_id or ""
            entries.setdefault(key, ProcessEntry(key, key or "（新流程）")).drafts.append(draft)
    return sorted(entries.values(), key=lambda e: (e.process_id == "", e.process_id))


def _case_counts(uow: UnitOfWork) -> dict[int, tuple[int, int]]:
    finished = case((InstanceRow.status.in_(FINISHED), 1), else_=0)
    rows = uow.session.execute(select(InstanceRow.process_version_id, func.count(),
                                      func.sum(finished))
                               .group_by(InstanceRow.process_version_id))
    return {vid: (total - int(done or 0), int(done or 0)) for vid, total, done in rows}


def _version_info(row: ProcessVersion, counts: Mapping[int, tuple[int, int]]) -> VersionInfo:
    running, finished = counts.get(row.id, (0, 0))
    return VersionInfo(row.id, row.process_id, row.version, row.bundle_sha256, row.status,
                       row.deployed_by, row.deployed_at, row.note, sorted(row.source_files),
                       running, finished)


def _mark_live(entry: ProcessEntry) -> None:
    """The newest active version is where new cases start (UnitOfWork.live_version)."""
    active = [v for v in entry.versions if v.status == "active"]
    if active:
        max(active, key=lambda v: v.version).live = True


def decision_catalogue(uow: UnitOfWork, actor: Actor) -> list[DecisionEntry]:
    """Every decision table in any deployed version, grouped by the DMN file's content."""
    require_owner(actor, uow.services)

    found: dict[str, DecisionEntry] = {}
    with uow:
        rows = uow.session.scalars(select(ProcessVersion).order_by(ProcessVersion.id)).all()
        for row in rows:
            process = process_names(row.source_files).get(row.process_id) or row.process_id
            for name, text in sorted(row.source_files.items()):
                if not name.endswith(".dmn"):
                    continue
                sha = bundle_sha256({name: text})
                for decision_id, label in decision_names(text, name).items():
                    entry = found.setdefault(decision_id, DecisionEntry(decision_id, label, name))
                    variant = next((v for v in entry.variants if v["sha256"] == sha), None)
                    if variant is None:
                        variant = {"sha256": sha, "used_by": []}
                        entry.variants.append(variant)
                    variant["used_by"].append(f"{process} v{row.version}")
    return sorted(found.values(), key=lambda e: e.decision_id)


def get_version(uow: UnitOfWork, actor: Actor, process_id: str, number: int) -> ProcessVersion:
    """One version by process id and number (inside the caller's ``with uow``; the caller has
    checked ``require_owner``)."""
    row = uow.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_id == process_id, ProcessVersion.version == int(number))).first()
    if row is None:
        raise NotFound(ErrorCode.VERSION_NOT_FOUND, process_id=process_id, version=number)
    return row


def version_files(uow: UnitOfWork, actor: Actor, process_id: str, number: int) -> dict[str, str]:
    """The source files of a version, as uploaded (what the editor opens)."""
    require_owner(actor, uow.services)
    with uow:
        return dict(get_version(uow, actor, process_id, number).source_files)


# -- deploy, approve, retire ----------------------------------------------------------------------
def deploy(uow: UnitOfWork, actor: Actor, files: Mapping[str, str | bytes], *,
           note: str | None = None, draft_id: int | None = None,
           allow_unclaimable: bool = False) -> list[ProcessVersion]:
    """Deploy files (or a draft's files) as new immutable versions; the draft is then removed.
    ``allow_unclaimable``: the owner insists on tasks nobody could claim (noted on the version)."""
    require_owner(actor, uow.services)
    if draft_id is not None:
        _, files = open_draft(uow, actor, draft_id)
    # closes drafts of the same content
    versions = deploy_bundle(uow, actor, files, note=note, allow_unclaimable=allow_unclaimable)
    if draft_id is not None:
        try:
            delete_draft(uow, actor, draft_id)
        except NotFound:
            pass  # already closed with its content
    return versions


def approve_version(uow: UnitOfWork, actor: Actor, version_id: int) -> VersionInfo:
    """A second process owner (not the deployer) lets a pending version go live."""
    require_owner(actor, uow.services)
    with denials_audited(uow.services, actor, object_type="process_version"), uow:
        row = _version(uow, version_id)
        if row.status != "pending":
            raise InvalidInput({"status": FieldError(
                ErrorCode.VERSION_NOT_PENDING, {"status": row.status})})
        if actor.type not in INTERNAL and row.deployed_by == actor.username:
            raise Denied(ErrorCode.SECOND_OWNER, "approve_process.second_owner",
                         object_type="process_version", object_id=row.id)
        row.status = "active"
        uow.audit.record(AuditAction.PROCESS_APPROVED, actor, object_type="process_version",
                         object_id=row.id, process_id=row.process_id, version=row.version,
                         sha256=row.bundle_sha256, deployed_by=row.deployed_by)
        info = _version_info(row, {})
        uow.commit()
    return info


def retire_version(uow: UnitOfWork, actor: Actor, version_id: int, reason: str) -> VersionInfo:
    """No new case starts on a retired version; cases already on it keep running there."""
    require_owner(actor, uow.services)
    if not (reason or "").strip():
        raise InvalidInput({"reason": FieldError(ErrorCode.RETIRE_REASON_REQUIRED)})
    pii_text.refuse(reason=reason)
    with uow:
        row = _version(uow, version_id)
        if row.status == "retired":
            raise InvalidInput({"status": FieldError(ErrorCode.VERSION_RETIRED)})
        if row.status == "active" and _last_active(uow, row) \
                and row.process_id in entry_processes(uow.session):
            # new cases of a case type (or the default) would have nowhere to start
            raise InvalidInput({"status": FieldError(ErrorCode.LAST_ENTRY_VERSION)})
        before, row.status = row.status, "retired"
        uow.audit.record(AuditAction.PROCESS_RETIRED, actor, object_type="process_version",
                         object_id=row.id, process_id=row.process_id, version=row.version,
                         previous_status=before, reason=reason.strip())
        info = _version_info(row, {})
        uow.commit()
    return info


def _last_active(uow: UnitOfWork, row: ProcessVersion) -> bool:
    others = uow.session.scalar(select(func.count()).select_from(ProcessVersion).where(
        ProcessVersion.process_id == row.process_id, ProcessVersion.status == "active",
        ProcessVersion.id != row.id))
    return not others


def _version(uow: UnitOfWork, version_id: int) -> ProcessVersion:
    row = uow.session.get(ProcessVersion, int(version_id))
    if row is None:
        raise NotFound(ErrorCode.VERSION_ID_NOT_FOUND, version_id=version_id)
    return row


def diff_versions(uow: UnitOfWork, actor: Actor, process_id: str, old: int,
                  new: int) -> BundleDiff:
    """Element-level diff between two deployed versions (``engine.diff.BundleDiff``)."""
    require_owner(actor, uow.services)
    with uow:
        before = dict(get_version(uow, actor, process_id, old).source_files)
        after = dict(get_version(uow, actor, process_id, new).source_files)
    return diff_bundles(before, after)
