"""The editor's checks: validate files with problems located on elements, and dry runs.

Neither stores anything: validation runs every check of a deploy, and a dry run runs the bundle in
memory under a frozen clock (``engine.simulate``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.camunda_compat import Note, adapt
from engine.problems import locate
from engine.simulate import SimulationResult, simulate
from engine.specs import CompiledBundle
from workflows.access.policy import require_owner
from workflows.core.actors import Actor
from workflows.core.errors import DeployRejected, ErrorCode, FieldError, InvalidInput
from workflows.processes.deploy import validate_bundle
from workflows.runtime.bootstrap import Services


@dataclass
class ValidationReport:
    """Errors (blocking) and warnings, each with file and element id, and what the bundle holds."""

    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    process_ids: list[str] = field(default_factory=list)
    decision_ids: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"ok": self.ok, "errors": self.errors, "warnings": self.warnings,
                "process_ids": self.process_ids, "decision_ids": self.decision_ids}


def validate_files(services: Services, actor: Actor,
                   files: Mapping[str, str | bytes]) -> ValidationReport:
    """Run every deploy check without storing; problems carry the element id to mark."""
    require_owner(actor, services)
    try:
        bundle = validate_bundle(services, files)
    except DeployRejected as exc:
        return ValidationReport(errors=[p.as_dict() for p in locate(exc.problems, files)])
    return ValidationReport(warnings=[p.as_dict() for p in locate(bundle.warnings, files)],
                            process_ids=list(bundle.top_process_ids),
                            decision_ids=list(bundle.decision_ids))


def compiled(services: Services, files: Mapping[str, str | bytes]) -> CompiledBundle:
    """The validated bundle, or DeployRejected with located problems (dry runs: who could
    claim a task is the deploy's question, not the dry run's)."""
    try:
        return validate_bundle(services, files, claims="skip")
    except DeployRejected as exc:
        raise DeployRejected(locate(exc.problems, files)) from None


def dry_run(services: Services, actor: Actor, files: Mapping[str, str | bytes], *,
            process_id: str | None = None, data: Mapping[str, Any] | None = None,
            actions: Sequence[Mapping[str, Any]] = (), start: datetime | None = None
            ) -> SimulationResult:
    """Run ``files`` in memory from ``start`` (default: now) applying ``actions``; nothing stored."""
    require_owner(actor, services)
    bundle = compiled(services, files)
    process_id = process_id or (bundle.top_process_ids[0] if bundle.top_process_ids else None)
    if process_id not in bundle.top_process_ids:
        raise InvalidInput({"process_id": FieldError(
            ErrorCode.NO_TOP_PROCESS, {"process_id": process_id})})
    return simulate(bundle, process_id, script_engine=services.script_engine,
                    start=start or services.clock.now(), data=data, actions=actions,
                    resolve=services.calendar.resolve)


def import_files(services: Services, actor: Actor, files: Mapping[str, str | bytes]
                 ) -> tuple[dict[str, bytes], list[Note]]:
    """Files uploaded from another modeler, with the rewrites jiefen needs and notes about them."""
    require_owner(actor, services)
    return adapt(files)


def located(exc: DeployRejected, files: Mapping[str, str | bytes]) -> DeployRejected:
    """The same refusal with its problems placed on elements where the message allows."""
    return DeployRejected(locate(exc.problems, files))
