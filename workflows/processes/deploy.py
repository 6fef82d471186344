"""Validate and deploy BPMN/DMN bundles as immutable process versions, one per content sha256.

Instances name their version; the stored state does not embed the spec."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from engine.clock import FrozenClock, use_clock
from engine.errors import BpmnValidationError, EngineStepFailed, ExpressionError, Problem
from engine.instance import WorkflowInstance
from engine.limits import Budget, LimitExceeded, budgeted
from engine.models import ProcessVersion
from engine.serializer import LIBRARY_VERSION
from engine.specs import CompiledBundle, compile_bundle
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import DeployRejected
from workflows.processes.claimability import deploy_note, unclaimable
from workflows.processes.drafts import close_deployed
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import UnitOfWork

SMOKE_INSTANT = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def validate_bundle(services: Services, files: Mapping[str, bytes | str], *,
                    budget: Budget | None = None, claims: str = "refuse") -> CompiledBundle:
    """Every check of a deploy without storing: limits, XML safety, parse, lint, smoke run, and
    who could claim each user task (``claims``: ``refuse`` unclaimable tasks, ``warn`` about
    them — the owner insisted — or ``skip`` the check, for dry runs).

    The smoke run has a step and time budget (``run_budget``; a test injects its own)."""
    try:
        bundle = compile_bundle(files, operations=services.operations.names(),
                                check_spec=services.calendar.check_spec,
                                max_cardinality=services.settings.max_cardinality)
    except BpmnValidationError as exc:
        raise DeployRejected(exc.problems) from None
    problems = _smoke_run(services, bundle, budget or run_budget(services))
    if claims != "skip":
        with services.session_factory() as session:
            nobody = unclaimable(session, bundle.source_files)
        if claims == "warn":
            bundle.warnings += [replace(p, severity="warning") for p in nobody]
        else:
            problems += nobody
    if problems:
        raise DeployRejected(problems)
    return bundle


def run_budget(services: Services) -> Budget:
    """The budget of one validation or dry run, from the settings."""
    return Budget(services.settings.run_budget_steps, services.settings.run_budget_seconds)


def limit_problem(file: str, exc: LimitExceeded) -> Problem:
    """A refused limit as a problem on its element (the web layer has words for the code)."""
    return Problem(file, exc.element_id, str(exc), "error", f"limit_{exc.code}",
                   tuple(exc.params.items()))


def _smoke_run(services: Services, bundle: CompiledBundle, budget: Budget) -> list[Problem]:
    """Start each top-level process in memory under a frozen clock to its first wait state."""
    problems = []
    for process_id in bundle.top_process_ids:
        try:
            with use_clock(FrozenClock(SMOKE_INSTANT)), budgeted(budget):
                WorkflowInstance.start(bundle, process_id, script_engine=services.script_engine)
        except LimitExceeded as exc:
            problems.append(limit_problem(file_of(bundle, process_id), exc))
        except EngineStepFailed as exc:
            if _needs_case_data(exc):  # a name the smoke run does not invent: not a defect
                continue
            problems.append(Problem(file_of(bundle, process_id), exc.element_id, str(exc)))
    return problems


def _needs_case_data(exc: BaseException | None) -> bool:
    """True when the step failed only because case data is missing (anywhere in the cause chain,
    e.g. inside a DMN rule that SpiffWorkflow re-wraps)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ExpressionError) and "unknown name" in str(exc):
            return True
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        seen += 1
    return False


def file_of(bundle: CompiledBundle, process_id: str) -> str:
    return bundle.parser.process_parsers[process_id].filename or "(bundle)"


def deploy_bundle(uow: UnitOfWork, actor: Actor, files: Mapping[str, bytes | str], *,
                  note: str | None = None,
                  allow_unclaimable: bool = False) -> list[ProcessVersion]:
    """Store one version per top-level process; identical content returns the existing version.
    ``allow_unclaimable``: deploy even with user tasks nobody could claim (kept as warnings)."""
    try:
        bundle = validate_bundle(uow.services, files,
                                 claims="warn" if allow_unclaimable else "refuse")
    except DeployRejected as exc:
        _audit_rejection(uow, actor, files, exc.problems)
        raise
    if allow_unclaimable:
        note = deploy_note(note, bundle.warnings)
    with uow:
        versions = [_store(uow, actor, bundle, pid, note) for pid in bundle.top_process_ids]
        close_deployed(uow, bundle.sha256)  # a draft that became this version is closed
        uow.commit()
    return versions


def _store(uow: UnitOfWork, actor: Actor, bundle: CompiledBundle, process_id: str,
           note: str | None) -> ProcessVersion:
    sha = bundle.sha256
    existing = uow.session.scalars(select(ProcessVersion).where(
        ProcessVersion.process_id == process_id, ProcessVersion.bundle_sha256 == sha)).first()
    if existing is not None:
        return existing
    number = (uow.session.scalar(select(func.max(ProcessVersion.version))
                                 .where(ProcessVersion.process_id == process_id)) or 0) + 1
    status = "pending" if uow.services.settings.require_deploy_approval else "active"
    version = ProcessVersion(
        process_id=process_id, version=number, bundle_sha256=sha, source_files=bundle.source_files,
        engine_files=bundle.engine_files, status=status, deployed_by=actor.username or actor.type,
        deployed_at=uow.clock.now(), note=note, library_version=LIBRARY_VERSION)
    uow.session.add(version)
    uow.session.flush()
    uow.audit.record(AuditAction.PROCESS_DEPLOYED, actor, object_type="process_version",
                     object_id=version.id, process_id=process_id, version=number, sha256=sha,
                     files=sorted(bundle.source_files), status=status, note=note,
                     warnings=[p.as_dict() for p in bundle.warnings])
    return version


def _audit_rejection(uow: UnitOfWork, actor: Actor, files: Mapping[str, bytes | str],
                     problems: list[Problem]) -> None:
    with uow:
        uow.audit.record(AuditAction.PROCESS_REJECTED, actor, object_type="bundle",
                         files=sorted(files), problems=[p.as_dict() for p in problems])
        uow.commit()


def read_directory(path: Path) -> dict[str, bytes]:
    """The .bpmn and .dmn files of a folder (or a single file) by logical name."""
    paths = [path] if path.is_file() else sorted(p for p in path.iterdir()
                                                  if p.suffix in (".bpmn", ".dmn"))
    return {p.name: p.read_bytes() for p in paths}
