"""Moving a running instance to another spec version.

The rule, by meaning: a migration is *safe* unless
- a task already COMPLETED or STARTED changed in what it does, or disappeared (the finished part
  of the case would no longer match its history), or
- a task the case is waiting at (READY or WAITING: a user task, an armed timer, an awaited
  message) disappeared or was renamed (its id changed).
Changes to words only — name, documentation, instructions, form field labels and option names —
and a form field added as optional change nothing that ran, so they are safe anywhere.
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

from engine import compaction
from engine.errors import EngineError
from engine.instance import WorkflowInstance

RESET_MASK = TaskState.READY
RESET_MASK_NAME = "READY"
FINISHED = TaskState.COMPLETED | TaskState.STARTED
WAITING_AT = TaskState.READY | TaskState.WAITING
# serialized task-spec keys that hold words only (what a person reads, not what runs)
WORDING_KEYS = frozenset({"bpmn_name", "documentation"})
WORDING_EXTENSIONS = frozenset({"instructionsForEndUser", "documentation"})


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
    wording: list[str] = field(default_factory=list)  # changed in words only: safe anywhere
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
                "removed": self.removed, "blocking": self.blocking, "wording": self.wording,
                "missing_subprocesses": self.missing_subprocesses}


def plan_migration(instance: WorkflowInstance, registry: DictionaryConverter,
                   new_spec: BpmnProcessSpec, new_deps: dict) -> MigrationPlan:
    """Diff the instance (top level and every subprocess) against ``new_spec``/``new_deps``."""
    workflow = instance.workflow
    wf_diff, sp_diffs = diff_workflow(registry, workflow, new_spec, new_deps)
    plan = MigrationPlan(safe=True, _wf_diff=wf_diff, _sp_diffs=sp_diffs, _new_spec=new_spec,
                         _new_deps=new_deps)
    wording: set = set()  # old task specs whose change is in words only
    spec_diff = SpecDiff(registry, workflow.spec, new_spec)
    wording |= _collect_spec_changes(plan, spec_diff, registry)
    for sp_id, sp in workflow.subprocesses.items():
        if sp_diffs.get(sp_id) is None:
            plan.missing_subprocesses.append(sp.spec.name)
            continue
        wording |= _collect_spec_changes(plan, SpecDiff(registry, sp.spec, new_deps[sp.spec.name]),
                                         registry)
    wording |= _compacted_changes(plan, workflow, registry, new_deps)
    for diff in [wf_diff, *sp_diffs.values()]:
        if diff is not None:
            plan.blocking.extend(_bpmn_id(t.task_spec) for t in _blocking(diff, wording))
    plan.blocking = sorted(set(plan.blocking))
    plan.wording = sorted({_bpmn_id(s) for s in wording if _is_element(s)})
    plan.missing_subprocesses = sorted(set(plan.missing_subprocesses))
    plan.safe = not plan.blocking and not plan.missing_subprocesses
    return plan


def _compacted_changes(plan: MigrationPlan, workflow, registry: DictionaryConverter,
                       new_deps: dict) -> set:
    """The same rule for finished sub-processes compacted out of the state (engine/compaction.py):
    their process must still exist, and what they completed must not have changed in meaning or
    disappeared."""
    completed: dict[str, set[str]] = {}
    for process, spec, _bpmn, state in compaction.finished_specs(workflow):
        if TaskState.get_value(state) & FINISHED:
            completed.setdefault(process, set()).add(spec)
    wording: set = set()
    for process, names in completed.items():
        old, new = workflow.subprocess_specs.get(process), new_deps.get(process)
        if old is None or new is None:
            plan.missing_subprocesses.append(process)
            continue
        spec_diff = SpecDiff(registry, old, new)
        changed = _collect_spec_changes(plan, spec_diff, registry)
        wording |= changed
        for name in names:
            spec = old.task_specs.get(name)
            if spec is not None and (spec in spec_diff.removed
                                     or (spec in spec_diff.changed and spec not in changed)):
                plan.blocking.append(_bpmn_id(spec))
    return wording


def _blocking(diff: WorkflowDiff, wording: set) -> list[Task]:
    """Finished tasks changed in meaning or removed; waiting tasks removed or renamed."""
    meant = [t for t in diff.changed if t.task_spec not in wording]
    out = filter_tasks(meant + list(diff.removed), state=FINISHED)
    out += filter_tasks(list(diff.removed), state=WAITING_AT)
    for task in filter_tasks(list(diff.changed), state=WAITING_AT):
        new = diff.alignment.get(task)
        if new is not None and _bpmn_id(new) != _bpmn_id(task.task_spec):
            out.append(task)  # aligned by position, but its id changed: a renamed element
    return out


def _collect_spec_changes(plan: MigrationPlan, spec_diff: SpecDiff,
                          registry: DictionaryConverter) -> set:
    """Record added, changed and removed elements; returns the specs changed in words only."""
    wording = set()
    for spec in spec_diff.added:
        if _is_element(spec) and _bpmn_id(spec) not in plan.added:
            plan.added.append(_bpmn_id(spec))
    for spec, reasons in spec_diff.changed.items():
        new = spec_diff.alignment.get(spec)
        if new is not None and words_only(registry.convert(spec), registry.convert(new)):
            wording.add(spec)
        if _is_element(spec):
            key = _bpmn_id(spec)
            plan.changed[key] = sorted(set(plan.changed.get(key, [])) | set(reasons))
    for spec in spec_diff.removed:
        if _is_element(spec) and _bpmn_id(spec) not in plan.removed:
            plan.removed.append(_bpmn_id(spec))
    return wording


def words_only(old: dict, new: dict) -> bool:
    """True when two serialized task specs differ only in what a person reads."""
    return _meaning(old, None) == _meaning(new, old)


def _meaning(spec: dict, old: dict | None) -> dict:
    """The spec without its words; for the new side (``old`` given), form fields added as
    optional are left out too."""
    out = {k: v for k, v in spec.items() if k not in WORDING_KEYS}
    definition = out.get("event_definition")
    if isinstance(definition, dict):  # a timer's or message's definition carries the label
        out["event_definition"] = {k: v for k, v in definition.items() if k != "name"}
    extensions = out.get("extensions")
    if isinstance(extensions, dict):
        kept = {k: v for k, v in extensions.items() if k not in WORDING_EXTENSIONS}
        if isinstance(kept.get("form"), list):
            before = (old or {}).get("extensions") or {}
            known = {f.get("id") for f in before.get("form") or [] if isinstance(f, dict)}
            kept["form"] = [_field_meaning(f) for f in kept["form"]
                            if old is None or f.get("id") in known or _required(f)]
            if not kept["form"]:
                kept.pop("form")
        out["extensions"] = kept
    return out


def _field_meaning(field: dict) -> dict:
    """A form field without its label and the display names of its options."""
    return {**{k: v for k, v in field.items() if k != "label"},
            "options": [option[0] if isinstance(option, list) and option else option
                        for option in field.get("options") or []]}


def _required(field: dict) -> bool:
    return "required" in (field.get("validation") or {})


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
