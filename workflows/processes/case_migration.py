"""Moving running cases to another version of their process.

``preview_migration`` lists, for every running case of a process on another version, whether
the move is safe and which tasks it adds, changes or removes. ``migrate_case`` moves one case:
a reason is required, an unsafe move needs ``force`` and a second reason, pending timers keep
their due time (reset_mask READY), and ``instance_migrated`` is written to the case's chain.
``migrate_cases`` moves many, one transaction per case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from engine.errors import EngineError
from engine.instance import WorkflowInstance
from engine.migration import RESET_MASK_NAME, MigrationPlan, migrate, plan_migration
from engine.models import InstanceRow, ProcessVersion
from workflows.access.policy import require_owner
from workflows.audit.inputs import record_input
from workflows.audit.log import AuditAction
from workflows.casework.projection import project_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, ErrorCode, FieldError, InvalidInput, NotFound
from workflows.library.graph import element_names
from workflows.models import Case
from workflows.processes.catalogue import get_version
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

LIVE_STATUSES = ("running", "waiting", "incident")


class MigrationRefused(InvalidInput):
    """The case cannot be moved as asked (unsafe without force, impossible, already there)."""


@dataclass
class CasePlan:
    """One case's migration preview."""

    case_no: str | None
    instance_id: int
    from_version: int
    to_version: int
    status: str
    plan: MigrationPlan
    current: list[str] = field(default_factory=list)
    due_at: str | None = None

    @property
    def safe(self) -> bool:
        return self.plan.safe

    def as_dict(self) -> dict:
        return {"case_no": self.case_no, "instance_id": self.instance_id,
                "from_version": self.from_version, "to_version": self.to_version,
                "status": self.status, "current": self.current, "due_at": self.due_at,
                "possible": self.plan.possible, **self.plan.summary()}


@dataclass
class MigrationPreview:
    """Every running case of a process that is not on the target version."""

    process_id: str
    to_version: int
    cases: list[CasePlan]
    # element id -> (name, kind) in the cases' versions and the target: the page names steps
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"process_id": self.process_id, "to_version": self.to_version,
                "cases": [c.as_dict() for c in self.cases]}


@dataclass
class MigrationOutcome:
    """What happened to one case in a (bulk) migration."""

    case_no: str
    migrated: bool
    from_version: int | None = None
    to_version: int | None = None
    forced: bool = False
    error: FieldError | None = None


def preview_migration(uow: UnitOfWork, actor: Actor, process_id: str,
                      to_version: int) -> MigrationPreview:
    """Plan (without changing anything) the move of every running case to ``to_version``."""
    require_owner(actor, uow.services)
    with uow:
        target = _target(uow, actor, process_id, to_version)
        rows = uow.session.execute(
            select(InstanceRow, Case.case_no, ProcessVersion.version)
            .join(Case, Case.workflow_instance_id == InstanceRow.id, isouter=True)
            .join(ProcessVersion, ProcessVersion.id == InstanceRow.process_version_id)
            .where(InstanceRow.process_id == process_id,
                   InstanceRow.process_version_id != target.id,
                   InstanceRow.status.in_(LIVE_STATUSES))
            .order_by(InstanceRow.id)).all()
        plans = [_case_plan(uow, row, case_no, version, target)
                 for row, case_no, version in rows]
        names: dict[str, tuple[str, str]] = {}
        for version_id in sorted({row.process_version_id for row, _no, _v in rows}):
            names.update(element_names(_version_of_id(uow, version_id).source_files))
        names.update(element_names(target.source_files))   # a renamed step by its new name
        return MigrationPreview(process_id, target.version, plans, names)


def _version_of(uow: UnitOfWork, row: InstanceRow) -> ProcessVersion:
    return _version_of_id(uow, row.process_version_id)


def _version_of_id(uow: UnitOfWork, version_id: int) -> ProcessVersion:
    version = uow.session.get(ProcessVersion, version_id)
    assert version is not None, "an instance's version exists (foreign key)"
    return version


def plan_case(uow: UnitOfWork, actor: Actor, case_no: str, to_version: int) -> CasePlan:
    """One case's preview (``jiefen migrate CODE --to-version N --dry-run``)."""
    require_owner(actor, uow.services)
    with uow:
        case, row = _case_and_row(uow, case_no)
        target = _target(uow, actor, row.process_id, to_version)
        return _case_plan(uow, row, case.case_no, _version_of(uow, row).version, target)


def _case_plan(uow: UnitOfWork, row: InstanceRow, case_no: str | None, version: int,
               target: ProcessVersion) -> CasePlan:
    instance = uow.load_instance(row.id)
    plan = _plan(uow, instance, target, row.process_id)
    current = sorted({t.bpmn_id for t in instance.ready_tasks()})
    due = instance.due_at
    return CasePlan(case_no, row.id, version, target.version, row.status, plan, current,
                    due.isoformat() if due else None)


def _plan(uow: UnitOfWork, instance: WorkflowInstance, target: ProcessVersion,
          process_id: str) -> MigrationPlan:
    bundle = uow.bundle(target.id)  # through this session: no second SQLite connection
    return plan_migration(instance, uow.services.serializer.registry, bundle.spec(process_id),
                          bundle.subprocess_specs(process_id))


def _target(uow: UnitOfWork, actor: Actor, process_id: str, to_version: int) -> ProcessVersion:
    target = get_version(uow, actor, process_id, to_version)
    if target.status == "pending":
        raise MigrationRefused({"to_version": FieldError(
            ErrorCode.VERSION_NOT_ACTIVE, {"version": to_version})})
    return target


def _case_and_row(uow: UnitOfWork, case_no: str) -> tuple[Case, InstanceRow]:
    case = uow.session.scalars(select(Case).where(Case.case_no == case_no)).first()
    if case is None or case.workflow_instance_id is None:
        raise NotFound(ErrorCode.CASE_WITHOUT_PROCESS, case_no=case_no)
    uow.load_instance(case.workflow_instance_id)
    return case, uow.instance_row(case.workflow_instance_id)


def migrate_case(uow: UnitOfWork, actor: Actor, case_no: str, to_version: int, reason: str,
                 force: bool = False, *, force_reason: str | None = None) -> MigrationOutcome:
    """Move one case to ``to_version`` of its process and record ``instance_migrated``."""
    require_owner(actor, uow.services)
    reason = (reason or "").strip()
    if not reason:
        raise MigrationRefused({"reason": FieldError(ErrorCode.MIGRATION_REASON_REQUIRED)})
    if found := pii_text.field_errors({"reason": reason, "force_reason": force_reason}):
        raise MigrationRefused(found)
    with uow:
        case, row = _case_and_row(uow, case_no)
        if row.status not in LIVE_STATUSES:
            ended = (ErrorCode.PROCESS_ENDED if row.status == "completed"
                     else ErrorCode.PROCESS_CANCELLED)
            raise MigrationRefused({"case": FieldError(ended)})
        target = _target(uow, actor, row.process_id, to_version)
        source = _version_of(uow, row)
        if source.id == target.id:
            raise MigrationRefused({"to_version": FieldError(
                ErrorCode.ALREADY_ON_VERSION, {"version": target.version})})
        instance = uow.load_instance(row.id)
        plan = _plan(uow, instance, target, row.process_id)
        _check(plan, force, force_reason)
        due_before = instance.due_at
        with uow.recording(instance, actor, case=case):
            migrate(instance, plan, f"{target.id}:{row.process_id}")
            instance.advance()
        row.process_version_id = target.id
        record_input(
            uow, AuditAction.INSTANCE_MIGRATED, actor, case, instance,
            object_type="workflow_instance", object_id=row.id, to_version_id=target.id,
            reset_mask=RESET_MASK_NAME, reason=reason,
            forced=not plan.safe, force_reason=(force_reason or None) if not plan.safe else None,
            diff=plan.summary(), **{"from": _ref(source), "to": _ref(target)},
            due_at_before=due_before.isoformat() if due_before else None,
            due_at_after=instance.due_at.isoformat() if instance.due_at else None)
        _project(uow, case, instance)
        uow.commit()
        return MigrationOutcome(case.case_no, True, source.version, target.version,
                                forced=not plan.safe)


def _check(plan: MigrationPlan, force: bool, force_reason: str | None) -> None:
    if not plan.possible:
        raise MigrationRefused({"to_version": FieldError(
            ErrorCode.SUBPROCESS_MISSING, {"elements": list(plan.missing_subprocesses)})})
    if plan.safe:
        return
    if not force:
        raise MigrationRefused({"to_version": FieldError(
            ErrorCode.STEPS_CHANGED, {"elements": list(plan.blocking)})})
    if not (force_reason or "").strip():
        raise MigrationRefused({"force_reason": FieldError(ErrorCode.FORCE_REASON_REQUIRED)})


def _ref(version: ProcessVersion) -> dict:
    return {"version_id": version.id, "version": version.version,
            "sha256": version.bundle_sha256}


def _project(uow: UnitOfWork, case: Case, instance: WorkflowInstance) -> None:
    """Rebuild the case's open tasks from the migrated instance (same as after a task)."""
    project_case(uow, case, instance)


def migrate_cases(services: Services, actor: Actor, process_id: str, to_version: int,
                  reason: str, *, case_nos: Iterable[str] | None = None, force: bool = False,
                  force_reason: str | None = None) -> list[MigrationOutcome]:
    """Bulk move: one transaction per case; a refused or failing case does not stop the others.

    Without ``case_nos`` every running case of the process is attempted (unsafe ones are refused
    unless forced)."""
    if case_nos is None:
        preview = preview_migration(services.new_uow(), actor, process_id, to_version)
        case_nos = [c.case_no for c in preview.cases if c.case_no]
    outcomes = []
    for case_no in case_nos:
        try:
            outcomes.append(migrate_case(services.new_uow(), actor, case_no, to_version, reason,
                                         force, force_reason=force_reason))
        except (DomainError, EngineError, ValueError) as exc:
            outcomes.append(MigrationOutcome(case_no, False, error=_error(exc)))
    return outcomes


def _error(exc: Exception) -> FieldError:
    """The first reason a case was not moved, as a code (web gives it words)."""
    if isinstance(exc, InvalidInput) and exc.field_errors:
        return next(iter(exc.field_errors.values()))
    code = getattr(exc, "code", None)
    if isinstance(exc, DomainError) and code:
        return FieldError(code, dict(exc.params))
    return FieldError(ErrorCode.MIGRATION_FAILED, {"detail": str(exc)})
