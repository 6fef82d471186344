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
from engine.limits import Budget, LimitExceeded, budgeted
from engine.problems import locate
from engine.sample_data import declared_start_data
from engine.simulate import SimulationResult, simulate
from engine.specs import CompiledBundle
from workflows.access.policy import require_owner
from workflows.core.actors import Actor
from workflows.core.errors import DeployRejected, ErrorCode, FieldError, InvalidInput
from workflows.library import contract
from workflows.processes.deploy import file_of, limit_problem, run_budget, validate_bundle
from workflows.processes.drafts import main_process
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


def validate_files(services: Services, actor: Actor, files: Mapping[str, str | bytes], *,
                   budget: Budget | None = None) -> ValidationReport:
    """Run every deploy check without storing; problems carry the element id to mark."""
    require_owner(actor, services)
    try:
        bundle = validate_bundle(services, files, budget=budget)
    except DeployRejected as exc:
        return ValidationReport(errors=[p.as_dict() for p in locate(exc.problems, files)])
    return ValidationReport(warnings=[p.as_dict() for p in locate(bundle.warnings, files)],
                            process_ids=list(bundle.top_process_ids),
                            decision_ids=list(bundle.decision_ids))


def compiled(services: Services, files: Mapping[str, str | bytes], *,
             budget: Budget | None = None) -> CompiledBundle:
    """The validated bundle, or DeployRejected with located problems (dry runs: who could
    claim a task is the deploy's question, not the dry run's)."""
    try:
        return validate_bundle(services, files, budget=budget, claims="skip")
    except DeployRejected as exc:
        raise DeployRejected(locate(exc.problems, files)) from None


def dry_run(services: Services, actor: Actor, files: Mapping[str, str | bytes], *,
            process_id: str | None = None, data: Mapping[str, Any] | None = None,
            actions: Sequence[Mapping[str, Any]] = (), start: datetime | None = None,
            budget: Budget | None = None) -> SimulationResult:
    """Run ``files`` in memory from ``start`` (default: now) applying ``actions``; nothing stored.

    Validation and the run each have the settings' budget (or ``budget``): a runaway model is
    refused (DeployRejected naming the element) instead of holding the worker."""
    require_owner(actor, services)
    bundle = compiled(services, files, budget=budget)
    process_id = _top_process(bundle, process_id)
    try:
        with budgeted(budget or run_budget(services)):
            return simulate(bundle, process_id, script_engine=services.script_engine,
                            start=start or services.clock.now(), data=data, actions=actions,
                            resolve=services.calendar.resolve)
    except LimitExceeded as exc:
        raise DeployRejected(locate([limit_problem(file_of(bundle, process_id), exc)],
                                    files)) from None


def _top_process(bundle: CompiledBundle, process_id: str | None) -> str:
    process_id = process_id or (bundle.top_process_ids[0] if bundle.top_process_ids else None)
    if process_id not in bundle.top_process_ids:
        raise InvalidInput({"process_id": FieldError(
            ErrorCode.NO_TOP_PROCESS, {"process_id": process_id})})
    return process_id


def sample_data(services: Services, actor: Actor, files: Mapping[str, str | bytes],
                process_id: str | None = None) -> dict[str, Any]:
    """Start data to try a dry run with: the intake contract's shape for the product's own entry
    process, else what the process declares (start form, data inputs)."""
    require_owner(actor, services)
    now = services.clock.now()
    process_id = process_id or _main_process_of(files)
    if process_id == contract.TOP_PROCESS:
        return contract.start_data(
            case_id=0, case_no="示例-0001", category="neighbour", urgency="general",
            people_count=2, emergency=False, statutory_channel=False, party_ids=["示例当事人"],
            received_at=now.isoformat())
    if not process_id:
        return {}
    return declared_start_data(files, process_id, now.date())


def _main_process_of(files: Mapping[str, str | bytes]) -> str | None:
    texts = {n: v.decode("utf-8", "replace") if isinstance(v, bytes) else v
             for n, v in files.items()}
    return main_process(texts)


def import_files(services: Services, actor: Actor, files: Mapping[str, str | bytes]
                 ) -> tuple[dict[str, bytes], list[Note]]:
    """Files uploaded from another modeler, with the rewrites jiefen needs and notes about them."""
    require_owner(actor, services)
    return adapt(files)


def located(exc: DeployRejected, files: Mapping[str, str | bytes]) -> DeployRejected:
    """The same refusal with its problems placed on elements where the message allows."""
    return DeployRejected(locate(exc.problems, files))
