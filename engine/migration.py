"""Moving a running instance to another spec version.

The rule: a migration is *safe* unless a task that changed or disappeared in the new version is
already COMPLETED or STARTED (the finished part of the case would no longer match its history).
Migration always uses ``reset_mask=TaskState.READY``: the library default also resets WAITING
tasks, which re-arms pending timers and silently restarts deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.serializer.helpers.dictionary import DictionaryConverter
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import (
    SpecDiff,
    WorkflowDiff,
    diff_workflow,
    filter_tasks,
    migrate_workflow,
)
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task

from engine.errors import EngineError
from engine.instance import WorkflowInstance

RESET_MASK = TaskState.READY
RESET_MASK_NAME = "READY"
FINISHED = TaskState.COMPLETED | TaskState.STARTED


class MigrationRefused(EngineError):
    """The instance cannot be moved (a running subprocess has no spec in the new version)."""


@dataclass
class MigrationPlan:
    """What moving one instance to a new spec would change; ``safe`` per the rule above."""

    safe: bool
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    blocking: list[str] = field(default_factory=list)
    missing_subprocesses: list[str] = field(default_factory=list)
    # the library objects migrate() needs; not part of the summary
    _wf_diff: WorkflowDiff | None = None
    _sp_diffs: dict = field(default_factory=dict)
    _new_spec: BpmnProcessSpec | None = None
    _new_deps: dict = field(default_factory=dict)

    @property
    def possible(self) -> bool:
        """False when no migration can be done at all, even forced."""
        return not self.missing_subprocesses

    def summary(self) -> dict:
        """JSON-able description (stored in the instance_migrated audit event)."""
        return {"safe": self.safe, "added": self.added, "changed": self.changed,
                "removed": self.removed, "blocking": self.blocking,
                "missing_subprocesses": self.missing_subprocesses}


def plan_migration(instance: WorkflowInstance, registry: DictionaryConverter,
                   new_spec: BpmnProcessSpec, new_deps: dict) -> MigrationPlan:
    """Diff the instance (top level and every subprocess) against ``new_spec``/``new_deps``."""
    workflow = instance.workflow
    wf_diff, sp_diffs = diff_workflow(registry, workflow, new_spec, new_deps)
    plan = MigrationPlan(safe=True, _wf_diff=wf_diff, _sp_diffs=sp_diffs, _new_spec=new_spec,
                         _new_deps=new_deps)
    _collect_spec_changes(plan, SpecDiff(registry, workflow.spec, new_spec))
    for sp_id, sp in workflow.subprocesses.items():
        if sp_diffs.get(sp_id) is None:
            plan.missing_subprocesses.append(sp.spec.name)
            continue
        _collect_spec_changes(plan, SpecDiff(registry, sp.spec, new_deps[sp.spec.name]))
    for diff in [wf_diff, *sp_diffs.values()]:
        if diff is not None:
            plan.blocking.extend(_bpmn_id(t.task_spec) for t in _finished(diff))
    plan.blocking = sorted(set(plan.blocking))
    plan.missing_subprocesses = sorted(set(plan.missing_subprocesses))
    plan.safe = not plan.blocking and not plan.missing_subprocesses
    return plan


def _finished(diff: WorkflowDiff) -> list[Task]:
    return filter_tasks(list(diff.changed) + list(diff.removed), state=FINISHED)


def _collect_spec_changes(plan: MigrationPlan, spec_diff: SpecDiff) -> None:
    for spec in spec_diff.added:
        if _is_element(spec) and _bpmn_id(spec) not in plan.added:
            plan.added.append(_bpmn_id(spec))
    for spec, reasons in spec_diff.changed.items():
        if _is_element(spec):
            key = _bpmn_id(spec)
            plan.changed[key] = sorted(set(plan.changed.get(key, [])) | set(reasons))
    for spec in spec_diff.removed:
        if _is_element(spec) and _bpmn_id(spec) not in plan.removed:
            plan.removed.append(_bpmn_id(spec))


def _is_element(spec: TaskSpec) -> bool:
    """Only BPMN elements (not the library's internal Start/End/join helper specs)."""
    return bool(getattr(spec, "bpmn_id", None))


def _bpmn_id(spec: TaskSpec) -> str:
    return getattr(spec, "bpmn_id", None) or spec.name


def migrate(instance: WorkflowInstance, plan: MigrationPlan, spec_version: str) -> None:
    """Apply ``plan``: re-point every task at the new spec; READY tasks are re-predicted,
    WAITING ones (armed timers, awaited messages) keep their state and due times."""
    if not plan.possible:
        raise MigrationRefused("subprocess not in the new version: "
                               + ", ".join(plan.missing_subprocesses))
    workflow = instance.workflow
    migrate_workflow(plan._wf_diff, workflow, plan._new_spec, reset_mask=RESET_MASK)
    for sp_id, sp in list(workflow.subprocesses.items()):
        diff = plan._sp_diffs.get(sp_id)
        if diff is None:  # started during this plan's life: nothing to realign
            continue
        migrate_workflow(diff, sp, plan._new_deps[sp.spec.name], reset_mask=RESET_MASK)
    workflow.subprocess_specs = plan._new_deps
    workflow.spec_version = spec_version
    instance.forget_derived()
