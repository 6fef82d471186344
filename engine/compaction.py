"""Compaction of finished sub-processes: a long case's state stays about as large as a short one's.

Every round of a looping case starts new embedded sub-processes and call activities; once one has
completed (and the task that ran it has too) nothing in it will ever run again, yet SpiffWorkflow
keeps all its tasks, and every later load, step and save walks them. ``compact`` drops such
sub-processes from the workflow and keeps, in ``workflow.compacted``, exactly what jiefen still
reads of them:

- ``rows``: (process, task spec, BPMN id, state) with a count, for every finished task they held:
  the state digest (which describes finished tasks by process, spec and state only) and the
  diagram's completed elements come out as they would from the full tree, so a replay of the
  history (never compacted) still matches the stored state digest, old or new;
- ``tasks``: task id -> (BPMN id, state) of their user tasks, so a late submission of such a task
  is still told it is no longer ready (rather than not found).

Sub-processes with any task still live (ready, waiting, started, in error) are kept, and so is a
sub-process whose nested ones cannot all go.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task

ATTRIBUTE = "compacted"
UNFINISHED = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
FINISHED = TaskState.COMPLETED | TaskState.CANCELLED


def summary(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The compacted summary of a workflow ({"rows": [...], "tasks": {...}}; empty if none)."""
    found = getattr(workflow, ATTRIBUTE, None)
    if not found:
        found = {"rows": [], "tasks": {}}
        setattr(workflow, ATTRIBUTE, found)
    return found


def finished_rows(workflow: BpmnWorkflow) -> Iterable[tuple[str, str, str, int]]:
    """(process, spec name, state name, how many) of the finished tasks compacted away."""
    for process, spec, _bpmn_id, state, count in summary(workflow)["rows"]:
        if _state_value(state) & FINISHED:
            yield process, spec, state, count


_STATE_VALUES = dict(zip(TaskState._names, TaskState._values))


def _state_value(name: str) -> int:
    """TaskState.get_value without the two dicts it builds per call."""
    value = _STATE_VALUES.get(name)
    return value if value is not None else TaskState.get_value(name)


def finished_specs(workflow: BpmnWorkflow) -> Iterable[tuple[str, str, str | None, str]]:
    """(process, spec name, BPMN id, state name) of every distinct compacted row."""
    for process, spec, bpmn_id, state, _count in summary(workflow)["rows"]:
        yield process, spec, bpmn_id, state


def completed_elements(workflow: BpmnWorkflow) -> Iterable[tuple[str, str | None, str]]:
    """(process, BPMN id, state name) of every distinct compacted row."""
    for process, _spec, bpmn_id, state, _count in summary(workflow)["rows"]:
        yield process, bpmn_id, state


def compacted_task(workflow: BpmnWorkflow, task_id: str) -> tuple[str, str] | None:
    """(BPMN id, state name) of a user task compacted away, else None."""
    found = summary(workflow)["tasks"].get(task_id)
    return (found[0], found[1]) if found else None


def compact(workflow: BpmnWorkflow) -> int:
    """Drop finished sub-processes (see the module doc); returns how many went."""
    subs = workflow.subprocesses
    if not subs:
        return 0
    owner: dict[UUID, Any] = {}   # sub-process id (its task's id) -> the workflow holding that task
    for sp_id in subs:
        if sp_id in workflow.tasks:
            owner[sp_id] = workflow
            continue
        owner[sp_id] = next((sp for sp in subs.values() if sp_id in sp.tasks), None)
    children: dict[UUID, list[UUID]] = {}
    for sp_id in subs:
        holder = owner[sp_id]
        if holder is not None and holder is not workflow:
            children.setdefault(holder.parent_task_id, []).append(sp_id)
    done = {sp_id for sp_id, sp in subs.items() if _finished(sp, owner[sp_id], sp_id)}

    def removable(sp_id: UUID) -> bool:
        return sp_id in done and all(removable(c) for c in children.get(sp_id, ()))

    # a nested one goes alone or with its parent; a parent only with all of its nested ones
    gone = [sp_id for sp_id in subs if removable(sp_id)]
    if not gone:
        return 0
    _summarise(workflow, [subs[sp_id] for sp_id in gone])
    for sp_id in gone:
        del subs[sp_id]
    return len(gone)


def _finished(sp: Any, holder: Any, sp_id: UUID) -> bool:
    if holder is None or not getattr(sp, "completed", False):
        return False
    parent: Task | None = holder.tasks.get(sp_id)
    if parent is None or parent.state != TaskState.COMPLETED:
        return False
    return not any(t.state & UNFINISHED for t in sp.tasks.values())


def _summarise(workflow: BpmnWorkflow, gone: list[Any]) -> None:
    found = summary(workflow)
    counts: Counter = Counter({tuple(row[:4]): row[4] for row in found["rows"]})
    for sp in gone:
        process = sp.spec.name
        for task in sp.tasks.values():
            if not task.state & FINISHED:
                continue
            spec = task.task_spec
            bpmn_id = getattr(spec, "bpmn_id", None)
            state = TaskState.get_name(task.state)
            counts[(process, spec.name, bpmn_id, state)] += 1
            if getattr(spec, "manual", False) and bpmn_id:
                found["tasks"][str(task.id)] = [bpmn_id, state]
    found["rows"] = [[*key, count] for key, count in
                     sorted(counts.items(), key=lambda kv: tuple(str(k) for k in kv[0]))]
