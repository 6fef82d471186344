"""WorkflowInstance: the only code that touches BpmnWorkflow and TaskState."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task

from engine import compaction, state_dump, walks
from engine.errors import (
    EngineError,
    EngineStepFailed,
    MessageNotExpected,
    TaskNotFound,
    TaskNotReady,
)
from engine.forms import FormField, fields_of
from engine.limits import LimitExceeded, tick
from engine.script_engine import JiefenScriptEngine
from engine.serializer import Serializer
from engine.specs import CompiledBundle

TYPED_START = re.compile(r"^due_from\(.*, '([A-Za-z][A-Za-z0-9_]*)'\)$")
TIMER_TYPES = {"DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition"}
FINISHED_STATES = TaskState.COMPLETED | TaskState.CANCELLED
_CURRENT = (TaskState.READY, TaskState.WAITING, TaskState.STARTED)   # element_states' "current"
LIVE_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.COMPLETED \
    | TaskState.ERROR | TaskState.CANCELLED


@dataclass
class TaskView:
    """What callers need of a ready user task; no SpiffWorkflow objects leak out."""

    id: str
    bpmn_id: str
    name: str
    lane: str | None
    process_id: str
    data: dict
    form: list[FormField] = field(default_factory=list)
    instructions: str | None = None
    instance_index: int | None = None
    due_at: datetime | None = None
    timers: list[BoundaryTimer] = field(default_factory=list)  # every armed boundary timer
    extensions: dict = field(default_factory=dict)


def _count_step(task: Task) -> None:
    tick(getattr(task.task_spec, "bpmn_id", None))


def _wrap(exc: Exception) -> EngineError:
    limit = _limit_in(exc)
    if limit is not None:  # the library may have wrapped it: it stays a limit, not a failure
        return limit
    task = getattr(exc, "task", None)
    element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
    detail = str(exc.args[0]) if exc.args else type(exc).__name__
    inner = getattr(exc, "exception", None)
    if inner is not None and str(inner) not in detail:
        detail = f"{detail}: {inner}"
    return EngineStepFailed(detail, element)


def _limit_in(exc: BaseException | None) -> LimitExceeded | None:
    for _depth in range(10):
        if exc is None or isinstance(exc, LimitExceeded):
            return exc
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    return None


class WorkflowInstance:
    """One running workflow: start/load/dump, user tasks, timers, messages, due time, digest."""

    def __init__(self, workflow: BpmnWorkflow):
        self.workflow = workflow
        walks.share_ids(workflow)
        walks.quicken(workflow)
        self._snapshot: Snapshot | None = None   # valid until the next engine step or data change
        self._ready: list[TaskView] | None = None  # likewise

    # -- life cycle -------------------------------------------------------------------------
    @classmethod
    def create(cls, bundle: CompiledBundle, process_id: str, *, script_engine: JiefenScriptEngine,
               data: dict | None = None,
               spec_version: str | None = None) -> WorkflowInstance:
        """A new instance, not yet advanced; ``spec_version`` is '<version id>:<process>'."""
        if not isinstance(script_engine, JiefenScriptEngine):
            # without it SpiffWorkflow falls back to its eval-based engine
            raise TypeError("a WorkflowInstance needs the restricted JiefenScriptEngine")
        workflow = BpmnWorkflow(bundle.spec(process_id), bundle.subprocess_specs(process_id),
                                script_engine=script_engine)
        workflow.spec_version = spec_version or f"0:{process_id}"
        if data:
            workflow.task_tree.set_data(**data)
        return cls(workflow)

    @classmethod
    def start(cls, bundle: CompiledBundle, process_id: str, *, script_engine: JiefenScriptEngine,
              data: dict | None = None,
              spec_version: str | None = None) -> WorkflowInstance:
        """Create and run to the first wait state."""
        instance = cls.create(bundle, process_id, script_engine=script_engine, data=data,
                              spec_version=spec_version)
        instance.advance()
        return instance

    def advance(self) -> None:
        """Run engine steps until only user tasks and waiting events remain."""
        self._steps()

    @classmethod
    def load(cls, state: str, serializer: Serializer) -> WorkflowInstance:
        return cls(serializer.deserialize_json(state))

    def dump(self, serializer: Serializer) -> str:
        return state_dump.dump(serializer, self.workflow)

    def compact(self) -> int:
        """Drop finished sub-processes, keeping what the digest, the diagram and late submissions
        read of them (engine/compaction.py); the digest stays what it was. Returns how many went."""
        gone = compaction.compact(self.workflow)
        if gone:
            self._ready = None
        return gone

    @property
    def spec_version(self) -> str:
        return self.workflow.spec_version

    @property
    def process_id(self) -> str:
        return self.workflow.spec.name

    # -- advancing --------------------------------------------------------------------------
    def forget_derived(self) -> None:
        """Drop the digest and ready tasks kept for the current state (the workflow was changed
        from outside, e.g. migrated)."""
        self._changed()

    def _changed(self) -> None:
        self._snapshot = self._ready = None

    def _steps(self) -> None:
        self._changed()
        try:
            walks.do_engine_steps(self.workflow, will_complete_task=_count_step)
        except EngineError:
            raise
        except Exception as exc:  # operations may raise anything: the caller rolls back
            raise _wrap(exc) from exc

    def fire_timers(self) -> None:
        """Fire every due timer and run the engine (a passed deadline beats a late completion)."""
        self._changed()
        try:
            self.workflow.refresh_timers()
        except EngineError:
            raise
        except Exception as exc:  # a timer expression or operation failed: the caller rolls back
            raise _wrap(exc) from exc
        if self._runnable():   # otherwise the engine steps would find nothing to run
            self._steps()

    def ready_task(self, task_id: str | UUID) -> Task:
        """The READY manual task with this id; TaskNotFound / TaskNotReady otherwise."""
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TaskNotFound, WorkflowException):
            task = None
        if task is None:
            gone = compaction.compacted_task(self.workflow, str(task_id))
            if gone is not None:   # in a finished sub-process compacted away
                raise TaskNotReady(*gone)
            raise TaskNotFound(str(task_id))
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskNotReady(task.task_spec.bpmn_id, TaskState.get_name(task.state))
        return task

    def complete(self, task_id: str | UUID, data: dict) -> TaskView:
        """Fire due timers, then complete a READY user task with validated data and advance."""
        self.fire_timers()
        task = self.ready_task(task_id)
        view = self._view(task)
        try:
            task.set_data(**data)
            task.run()
        except EngineError:
            raise
        except Exception as exc:
            raise _wrap(exc) from exc
        self._steps()
        return view

    def deliver_message(self, name: str, payload: Any = None) -> None:
        """Deliver a message event (its definition class must match the parser's flavour: spiff)."""
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        try:
            self.workflow.send_event(event)
        except WorkflowException as exc:
            if "not waiting" in str(exc):
                raise MessageNotExpected(name) from None
            raise _wrap(exc) from exc
        self._steps()

    def lost_results(self) -> list[tuple[Task, Task]]:
        """(multi-instance task, finished instance) for each result the running activity never
        took in, in the order the instances finished (read only)."""
        lost: list[tuple[Task, Task]] = []
        for task in self._all_tasks():
            spec = task.task_spec
            if task.state != TaskState.STARTED or not isinstance(spec, LoopTask):
                continue
            taken = set(task.internal_data.get("merged", []))
            lost.extend((task, c) for c in sorted(
                (c for c in spec._instances(task)
                 if c.state == TaskState.COMPLETED and str(c.id) not in taken),
                key=lambda c: c.last_state_change))
        return lost

    def merge_lost_results(self) -> list[dict[str, Any]]:
        """Take in the results of multi-instance instances that finished without their activity
        taking them (states saved before ``bpmn_parser.wire_loop_merges``): merged in the order
        they finished, then the engine runs (the activity completes once all are in). Returns
        {"activity": BPMN id, "item": the instance's input item} per result; [] when none."""
        merged: list[dict[str, Any]] = []
        for task, child in self.lost_results():
            spec = task.task_spec
            spec.merge_child(child.workflow, child)
            merged.append({"activity": spec.bpmn_id, "item": instance_item(spec, child)})
        if merged:
            self._steps()
        return merged

    def set_data(self, **values: Any) -> None:
        """Set workflow-level data (e.g. corrections by an audited admin action)."""
        self._changed()
        self.workflow.data.update(values)

    # -- reading ----------------------------------------------------------------------------
    def ready_tasks(self) -> list[TaskView]:
        """The ready user tasks in tree order (kept until the instance next changes)."""
        if self._ready is None:
            self._ready = [self._view(t) for t in self._ready_user_tasks()]
        return list(self._ready)

    def _ready_user_tasks(self) -> list[Task]:
        """What get_tasks(state=READY, manual=True) returns, without its slow tree iterator when
        a plain walk finds one such task the iterator would reach (the usual case)."""
        found = [t for t in self._all_tasks() if t._state == TaskState.READY and t.task_spec.manual]
        if not found:
            return found
        if len(found) == 1 and _reachable(found[0]):
            return found
        return self.workflow.get_tasks(state=TaskState.READY, manual=True)   # tree order

    def _runnable(self) -> bool:
        """True if a READY task the engine runs itself (not a user task) is waiting to run."""
        return any(t._state == TaskState.READY and not t.task_spec.manual for t in self._all_tasks())

    def ready_view(self, task_id: str | UUID) -> TaskView:
        """The view of one READY user task (TaskNotFound / TaskNotReady otherwise)."""
        return self._view(self.ready_task(task_id))

    def find_ready(self, bpmn_id: str, instance_index: int | None = None) -> TaskView:
        """A ready task by BPMN id (and multi-instance index); replay and tests locate tasks so."""
        for view in self.ready_tasks():
            if view.bpmn_id == bpmn_id and (instance_index is None
                                             or view.instance_index == instance_index):
                return view
        raise TaskNotReady(bpmn_id, "no such ready task")

    def is_completed(self) -> bool:
        return _is_completed(self.workflow)

    @property
    def data(self) -> dict:
        return self.workflow.data if self.is_completed() else self.workflow.task_tree.data

    def latest_data(self) -> dict:
        """Data as of the most recently completed task (what a case summary shows)."""
        if self.is_completed():
            return dict(self.workflow.data)
        done = [t for t in self._all_tasks() if t.state == TaskState.COMPLETED]
        latest = max(done, key=lambda t: t.last_state_change, default=self.workflow.task_tree)
        return {**latest.data, **self.workflow.data}

    def _view(self, task: Task) -> TaskView:
        spec = task.task_spec
        extensions = dict(getattr(spec, "extensions", {}) or {})
        info = spec.task_info(task) if hasattr(spec, "task_info") else {}
        timers = _boundary_timers(task)
        return TaskView(
            id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
            lane=spec.lane, process_id=task.workflow.spec.name, data=dict(task.data),
            form=fields_of(extensions.get("form")),
            instructions=extensions.get("instructionsForEndUser") or spec.documentation,
            instance_index=info.get("instance") if isinstance(info, dict) else None,
            due_at=_deadline(timers), timers=timers, extensions=extensions)

    @property
    def due_at(self) -> datetime | None:
        """Earliest UTC due time over all armed timers (top level and subprocesses)."""
        dues = [due for _, due in self.armed_timers()]
        return min(dues) if dues else None

    def armed_timers(self) -> list[tuple[str, datetime]]:
        out = []
        for event in self.workflow.waiting_events():
            if event.event_type in TIMER_TYPES and isinstance(event.value, str):
                out.append((event.name, _parse_due(event.value)))
        return out

    def timer_due(self, now: datetime) -> bool:
        """Whether firing timers could change anything now: a waiting timer is due, or one has
        no time of its own yet (the engine computes it when it fires)."""
        for event in self.workflow.waiting_events():
            if event.event_type in TIMER_TYPES:
                if not isinstance(event.value, str) or _parse_due(event.value) <= now:
                    return True
        return False

    def waiting_messages(self) -> list[str]:
        return [e.name for e in self.workflow.waiting_events() if e.event_type == "MessageEventDefinition"]

    @property
    def max_depth(self) -> int:
        return max((t.depth for t in self.workflow.get_tasks()), default=0)

    def element_states(self) -> dict[str, dict[str, list[str]]]:
        """Per process id: BPMN ids completed and current (for diagram highlighting)."""
        out: dict[str, dict[str, list[str]]] = {}
        for task in self._iterated_tasks():
            spec = task.task_spec
            if not getattr(spec, "bpmn_id", None):
                continue
            entry = out.setdefault(task.workflow.spec.name, {"completed": [], "current": []})
            if task.state == TaskState.COMPLETED:
                entry["completed"].append(spec.bpmn_id)
            elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                entry["current"].append(spec.bpmn_id)
        for process, bpmn_id, state in compaction.completed_elements(self.workflow):
            if bpmn_id:
                entry = out.setdefault(process, {"completed": [], "current": []})
                if state == "COMPLETED":
                    entry["completed"].append(bpmn_id)
        for entry in out.values():
            entry["completed"] = sorted(set(entry["completed"]))
            entry["current"] = sorted(set(entry["current"]))
        return out

    def current_processes(self) -> set[str]:
        """The process ids with an element ready, waiting or started: those ``element_states``
        gives a non-empty "current" list, without collecting and sorting every element."""
        return {task.workflow.spec.name for task in self._iterated_tasks()
                if task.state in _CURRENT and getattr(task.task_spec, "bpmn_id", None)}

    def state_digest(self) -> str:
        """sha256 of the semantic state (the replay compares it); random task UUIDs left out."""
        return self.snapshot().digest

    def _iterated_tasks(self) -> Iterator[Task] | list[Task]:
        """The tasks workflow.get_tasks() returns, in any order: with at most 1000 tasks in all
        (so none lies beyond the iterator's depth), those of the workflow and of every
        sub-process whose task is among them; else the iterator itself."""
        top = self.workflow
        subs = top.subprocesses
        if len(top.tasks) + sum(len(sp.tasks) for sp in subs.values()) > 1000:
            return top.get_tasks()
        reached, found = [top], True
        while found:   # a nested sub-process's task is in its parent sub-process
            found = False
            for sp_id, sp in subs.items():
                if sp not in reached and any(sp_id in w.tasks for w in reached):
                    reached.append(sp)
                    found = True
        return (task for workflow in reached for task in workflow.tasks.values())

    def _all_tasks(self) -> Iterator[Task]:
        """Every task of the workflow and its subprocesses (plain dict walks: get_tasks() is slow)."""
        yield from self.workflow.tasks.values()
        for sub in self.workflow.subprocesses.values():
            yield from sub.tasks.values()

    def unchanged_since(self, snapshot: Snapshot) -> bool:
        """True if nothing was done to the instance (through this class) since ``snapshot``."""
        return self._snapshot is snapshot

    def snapshot(self) -> Snapshot:
        """Digest, depth, readiness and due time in one walk over the task tree (saved per commit);
        kept until the instance next changes (an input's digest and the commit share it)."""
        if self._snapshot is None:
            self._snapshot = self._take_snapshot()
        return self._snapshot

    def _take_snapshot(self) -> Snapshot:
        # rows (process, spec, info, state, data hash) with how often each occurs; finished
        # tasks are history carried forward by their successors: their spec and state suffice,
        # live tasks add their info and data
        rows: dict[tuple[str, str, str, str, str], int] = {}
        depth, ready = 0, False
        known: dict[UUID, int] = {}   # depths of the tasks walked so far
        for workflow in (self.workflow, *self.workflow.subprocesses.values()):
            process = workflow.spec.name
            for task in workflow.tasks.values():
                state = task._state
                spec = task.task_spec
                if state & FINISHED_STATES:
                    row = (process, spec.name, "", _state_name(state), "")
                elif state & LIVE_STATES:
                    depth = max(depth, _depth(task, known))  # the deepest task is a live leaf
                    ready = ready or (state == TaskState.READY and spec.manual)
                    info = spec.task_info(task) if hasattr(spec, "task_info") else {}
                    info = {k: v for k, v in info.items() if k != "instance_map"}  # task UUIDs
                    row = (process, spec.name, _INFO_JSON.encode(info) if info else "{}",
                           _state_name(state), _data_hash(task.data))
                else:
                    continue
                rows[row] = rows.get(row, 0) + 1
        for process, spec_name, state_name, count in compaction.finished_rows(self.workflow):
            row = (process, spec_name, "", state_name, "")
            rows[row] = rows.get(row, 0) + count
        timers = self.armed_timers()
        blob = _blob(rows, sorted(d.isoformat() for _, d in timers), _data_hash(self.workflow.data))
        return Snapshot(digest=hashlib.sha256(blob.encode("utf-8")).hexdigest(), max_depth=depth,
                        has_ready_tasks=ready, due_at=min((d for _, d in timers), default=None),
                        completed=_is_completed(self.workflow))


@dataclass(frozen=True)
class Snapshot:
    """What the instance row stores besides the state itself."""

    digest: str
    max_depth: int
    has_ready_tasks: bool
    due_at: datetime | None
    completed: bool


_STATE_NAMES = {value: TaskState.get_name(value) for value in TaskState._values}


def _state_name(state: int) -> str:
    """TaskState.get_name without the two dicts it builds per call."""
    name = _STATE_NAMES.get(state)
    return name if name is not None else TaskState.get_name(state)


def instance_item(spec: LoopTask, child: Task) -> Any:
    """The input item of one multi-instance instance (a co-department's code), else its index."""
    item = getattr(spec, "input_item", None)
    if item is not None and item.exists(child):
        return item.get(child)
    return child.internal_data.get("key_or_index", child.internal_data.get("iteration"))


def _is_completed(workflow: BpmnWorkflow) -> bool:
    """workflow.is_completed() without walking its tree iterator through the whole history when
    a plain walk finds an unfinished task the iterator would reach (one down to depth 1000)."""
    if not workflow.completed:
        shallow = len(workflow.tasks) <= 1000   # then no task lies deeper than that
        for task in workflow.tasks.values():
            if task._state & TaskState.NOT_FINISHED_MASK and (shallow or task.depth <= 1000):
                return False
    return workflow.is_completed()


def _reachable(task: Task) -> bool:
    """True if get_tasks' iterator, filtering READY tasks, reaches ``task``: it descends from a
    task only in a state from FUTURE on, not below depth 1000, and into a sub-process only while
    the task that runs it is unfinished."""
    hops = 0
    while True:
        parent = task.parent
        while parent is not None:
            if parent._state < TaskState.FUTURE:
                return False
            hops += 1
            parent = parent.parent
        host_id = getattr(task.workflow, "parent_task_id", None)
        if host_id is None:
            return hops <= 1000
        try:
            host = task.workflow.top_workflow.get_task_from_id(host_id)
        except WorkflowException:   # TaskNotFoundException: let the iterator decide
            return False
        # (as the iterator compares: no single state reaches the mask's value)
        if host is None or host._state >= TaskState.FINISHED_MASK:
            return False
        hops += 1
        task = host


def _parse_due(value: str) -> datetime:
    """Armed timer value -> plain aware UTC datetime (not the clock hook's subclass)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return datetime.fromtimestamp(moment.timestamp(), UTC)


# the digest's encoders, built once (json.dumps with options builds one per call)
_INFO_JSON = json.JSONEncoder(sort_keys=True, default=str)
_DATA_JSON = json.JSONEncoder(sort_keys=True, default=str, ensure_ascii=False)
_BLOB_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def _data_hash(data: dict) -> str:
    text = _DATA_JSON.encode(data)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _blob(rows: dict[tuple[str, str, str, str, str], int], timers: list[str], data: str) -> str:
    """_BLOB_JSON.encode({"tasks": the rows sorted, each as often as it occurs, "timers": timers,
    "data": data}), written from the text of each distinct row (finished rows recur a lot)."""
    texts = []
    for row in sorted(rows):
        text = _ROW_TEXT.get(row)
        if text is None:
            text = _BLOB_JSON.encode(row)
            if not row[2] and not row[4] and len(_ROW_TEXT) < 10_000:   # a finished task's
                _ROW_TEXT[row] = text
        texts.extend([text] * rows[row])
    return (f'{{"data": {_BLOB_JSON.encode(data)}, "tasks": [{", ".join(texts)}], '
            f'"timers": {_BLOB_JSON.encode(timers)}}}')


_ROW_TEXT: dict[tuple[str, str, str, str, str], str] = {}   # a finished row's text, by row


def _depth(task: Task, known: dict[UUID, int]) -> int:
    """task.depth, remembering every ancestor's in ``known`` (live tasks share most of theirs;
    a task's parent never changes)."""
    path = []
    while task is not None and task.id not in known:
        path.append(task)
        task = task.parent
    depth = known[task.id] if task is not None else -1
    for seen in reversed(path):
        depth += 1
        known[seen.id] = depth
    return depth


@dataclass(frozen=True)
class BoundaryTimer:
    """An armed timer on a task's boundary: its deadline (interrupting) or a reminder."""

    bpmn_id: str
    name: str | None
    due_at: datetime
    interrupting: bool
    documentation: str | None = None   # names the limit (T-id) and its legal basis
    typed_start: str | None = None     # the task-data date a `from` timer counts from


def _boundary_timers(task: Task) -> list[BoundaryTimer]:
    """Armed boundary timers attached to this task, earliest first; a task without any inside
    an embedded sub-process has the sub-process's (a deadline over several rounds of tasks)."""
    parent = task.parent
    if parent is not None and getattr(parent.task_spec, "bpmn_id", None) == task.task_spec.bpmn_id:
        parent = parent.parent  # a loop or multi-instance child: the boundary is on its parent
    timers: list[BoundaryTimer] = []
    if parent is None or "BoundaryEventSplit" not in type(parent.task_spec).__name__:
        host = _embedding_task(task)
        return _boundary_timers(host) if host is not None else []
    for sibling in parent.children:
        spec = sibling.task_spec
        value = sibling.internal_data.get("event_value") if sibling.internal_data else None
        if isinstance(value, dict):  # a cycle timer: its next occurrence
            value = value.get("next") if value.get("cycles", 1) != 0 else None
        if isinstance(getattr(spec, "event_definition", None), TimerEventDefinition) \
                and isinstance(value, str):
            start = TYPED_START.match(str(getattr(spec.event_definition, "expression", "")))
            timers.append(BoundaryTimer(spec.bpmn_id, spec.bpmn_name, _parse_due(value),
                                        bool(getattr(spec, "cancel_activity", False)),
                                        spec.documentation, start.group(1) if start else None))
    if not timers and (host := _embedding_task(task)) is not None:
        return _boundary_timers(host)
    return sorted(timers, key=lambda t: t.due_at)


def _embedding_task(task: Task) -> Task | None:
    """The embedded sub-process task whose flow ``task`` runs in (None at top level and in a
    called process: a call activity's deadline is the caller's business, not its tasks')."""
    workflow = task.workflow
    parent_id = getattr(workflow, "parent_task_id", None)
    if parent_id is None:
        return None
    host = workflow.top_workflow.get_task_from_id(parent_id)
    kind = type(host.task_spec).__name__
    return host if kind == "SubWorkflowTask" else None


def _deadline(timers: list[BoundaryTimer]) -> datetime | None:
    """The earliest interrupting one of a task's boundary timers (earliest first)."""
    return next((t.due_at for t in timers if t.interrupting), None)
