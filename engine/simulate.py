"""Dry run: run a bundle in memory under a FrozenClock with chosen user-task input (no database).

The caller gives a start time, example data and a list of actions; the result is the path taken
(elements completed or cancelled, with the simulated time), the timers that fired, the timers
still armed, the ready tasks (with their forms, so a UI can offer the next choice) and the final
data. The run is stateless: a UI replays the whole action list each time (runs are milliseconds).
Service-task operations run without a unit of work, exactly as in the deploy smoke run.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task

from engine.clock import FrozenClock, use_clock
from engine.errors import EngineError, EngineStepFailed, ExpressionError, TaskNotReady
from engine.forms import FormInvalid, validate_submission
from engine.instance import TaskView, WorkflowInstance, _parse_due
from engine.limits import LimitExceeded
from engine.recorder import TaskEventRecorder, json_copy
from engine.script_engine import JiefenScriptEngine
from engine.specs import CompiledBundle

MAX_ACTIONS = 200
Resolve = Callable[[str, datetime], datetime]
EXPRESSION_IN_MESSAGE = re.compile(r"Error evaluating expression '(?P<expr>.*)'", re.DOTALL)
UNKNOWN_NAME = re.compile(r"unknown name '(?P<name>[^']+)'")


class DryRunRefused(ValueError):
    """An action the run cannot apply; ``code`` and ``params`` say why (the web has words)."""

    def __init__(self, code: str, **params: Any):
        self.code, self.params = code, params
        super().__init__(f"{code} {params}" if params else code)


@dataclass
class Step:
    """One element on the path: completed (or cancelled) at simulated time ``at``."""

    at: str
    element_id: str
    name: str | None
    kind: str
    process_id: str
    outcome: str = "completed"
    data: dict | None = None


@dataclass
class SimulationResult:
    """Everything a dry run shows; ``error`` is set when an action could not be applied."""

    path: list[Step] = field(default_factory=list)
    fired_timers: list[dict] = field(default_factory=list)
    armed_timers: list[dict] = field(default_factory=list)
    ready_tasks: list[dict] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    completed: bool = False
    now: str = ""
    actions_applied: int = 0
    error: dict | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def element_states(self) -> dict[str, list[str]]:
        """Element ids completed and current (what the diagram highlights)."""
        done = sorted({s.element_id for s in self.path if s.outcome == "completed"})
        current = sorted({t["element_id"] for t in self.ready_tasks}
                         | {t["element_id"] for t in self.armed_timers})
        return {"completed": done, "current": current}


def simulate(bundle: CompiledBundle, process_id: str, *, script_engine: JiefenScriptEngine,
             start: datetime,
             data: Mapping[str, Any] | None = None, actions: Sequence[Mapping[str, Any]] = (),
             resolve: Resolve | None = None) -> SimulationResult:
    """Start ``process_id`` at ``start`` with ``data`` and apply ``actions`` in order.

    Actions: ``{"complete": bpmn_id, "data": {...}, "index": n}`` (form-validated input for a
    ready user task), ``{"advance": "PT2H" | "working_days(1)" | "next_timer"}`` or
    ``{"advance_to": ISO date-time}`` (then due timers fire). A limit (engine.limits) is not
    an error of the run: it propagates, and nothing of the run is shown.
    """
    clock = FrozenClock(start)
    run = _Run(clock, script_engine, resolve)
    result = SimulationResult()
    with use_clock(clock.now):
        try:
            run.start(bundle, process_id, dict(data or {}))
        except LimitExceeded:
            raise
        except EngineError as exc:
            result.error = _error(0, exc)
            return run.finish(result)
        for number, action in enumerate(list(actions)[:MAX_ACTIONS], start=1):
            try:
                run.apply(action)
            except LimitExceeded:
                raise
            except (EngineError, FormInvalid, ValueError, KeyError) as exc:
                result.error = _error(number, exc)
                break
            result.actions_applied = number
    return run.finish(result)


class _Run:
    """The instance, its clock and the path recorded so far."""

    def __init__(self, clock: FrozenClock, script_engine: JiefenScriptEngine,
                 resolve: Resolve | None):
        self.clock, self.script_engine, self.resolve = clock, script_engine, resolve
        self.steps: list[Step] = []
        self.fired: list[dict] = []
        self.instance: WorkflowInstance | None = None

    @property
    def live(self) -> WorkflowInstance:
        """The started instance (actions only run after ``start`` succeeded)."""
        assert self.instance is not None
        return self.instance

    def start(self, bundle: CompiledBundle, process_id: str, data: dict) -> None:
        self.instance = WorkflowInstance.create(bundle, process_id, script_engine=self.script_engine,
                                                data=data, spec_version=f"dry-run:{process_id}")
        self._recorded(self.instance.advance)

    def apply(self, action: Mapping[str, Any]) -> None:
        if "complete" in action:
            self._complete(str(action["complete"]), action.get("data") or {}, action.get("index"))
        elif "advance_to" in action:
            self._advance_to(datetime.fromisoformat(str(action["advance_to"])))
        elif "advance" in action:
            self._advance(str(action["advance"]))
        else:
            raise DryRunRefused("unknown_action")

    def _complete(self, bpmn_id: str, raw: Mapping[str, Any], index: Any) -> None:
        view = self.live.find_ready(bpmn_id, None if index in (None, "") else int(index))
        clean = validate_submission(view.form, raw)
        self._recorded(lambda: self.live.complete(view.id, clean), submitted={view.id: clean})

    def _advance(self, spec: str) -> None:
        if spec == "next_timer":
            dues = [t["due"] for t in armed_timers(self.live)]
            if not dues:
                raise DryRunRefused("no_timer")
            # the library fires a timer strictly after its due time
            self._advance_to(datetime.fromisoformat(min(dues)) + timedelta(seconds=1))
            return
        if self.resolve is None:
            raise DryRunRefused("no_calendar")
        try:
            moment = self.resolve(spec, self.clock.now())
        except ValueError:
            raise DryRunRefused("bad_duration", spec=spec) from None
        self._advance_to(moment)

    def _advance_to(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise DryRunRefused("no_offset")
        if moment < self.clock.now():
            raise DryRunRefused("clock_back")
        due = [t for t in armed_timers(self.live) if datetime.fromisoformat(t["due"]) < moment]
        self.clock.set(moment)
        fired_before, steps_before = len(self.fired), len(self.steps)
        self._recorded(self.live.fire_timers)
        seen = {t["element_id"] for t in self.fired[fired_before:]}
        for timer in due:  # a repeating timer stays armed (no COMPLETED event): it fired all the same
            if timer["element_id"] not in seen:
                seen.add(timer["element_id"])
                at = self.clock.now().isoformat()
                self.fired.append({"element_id": timer["element_id"], "name": timer["name"],
                                   "at": at})
                self.steps.insert(steps_before, Step(at, timer["element_id"], timer["name"],
                                                     "timer", self.live.process_id))

    def _recorded(self, step: Callable[[], Any], submitted: dict | None = None) -> None:
        workflow = self.live.workflow
        with TaskEventRecorder(workflow, None, self.clock.now) as recorder:
            step()
        for event in recorder.events:
            self._record(event, (submitted or {}).get(event["task_id"]))

    def _record(self, event: dict, submitted: dict | None) -> None:
        if event["to"] not in ("COMPLETED", "CANCELLED"):
            return
        task = _task(self.live, event["task_id"])
        spec = getattr(task, "task_spec", None)
        if task is None or spec is None or not getattr(spec, "bpmn_id", None):
            return  # the library's own helper tasks (Start, joins, boundary splits)
        is_timer = isinstance(getattr(spec, "event_definition", None), TimerEventDefinition)
        kind = "timer" if is_timer else type(spec).__name__
        step = Step(event["at"], spec.bpmn_id, spec.bpmn_name, kind, task.workflow.spec.name,
                    event["to"].lower(), submitted)
        self.steps.append(step)
        if is_timer and step.outcome == "completed":
            self.fired.append({"element_id": spec.bpmn_id, "name": spec.bpmn_name,
                               "at": event["at"]})

    def finish(self, result: SimulationResult) -> SimulationResult:
        result.path, result.fired_timers = self.steps, self.fired
        result.now = self.clock.now().isoformat()
        if self.instance is None:
            return result
        result.armed_timers = armed_timers(self.instance)
        result.ready_tasks = [_ready(view) for view in self.instance.ready_tasks()]
        result.completed = self.instance.is_completed()
        result.data = json_copy(self.instance.latest_data())
        return result


def armed_timers(instance: WorkflowInstance) -> list[dict]:
    """Every WAITING timer with its element id and due time (ISO, UTC)."""
    out = []
    for task in instance.workflow.get_tasks():
        spec = task.task_spec
        definition = getattr(spec, "event_definition", None)
        value = (task.internal_data or {}).get("event_value")
        if isinstance(value, dict):  # a cycle timer (a repeated reminder): its next occurrence
            value = value.get("next") if value.get("cycles", 1) != 0 else None
        if task.state == TaskState.WAITING and isinstance(definition, TimerEventDefinition) \
                and isinstance(value, str):
            out.append({"element_id": spec.bpmn_id, "name": spec.bpmn_name,
                        "due": _parse_due(value).isoformat()})
    return sorted(out, key=lambda t: t["due"])


def _task(instance: WorkflowInstance, task_id: str) -> Task | None:
    try:
        return instance.workflow.get_task_from_id(UUID(task_id))
    except Exception:  # removed from the tree (a cancelled branch): nothing to show
        return None


def _ready(view: TaskView) -> dict:
    return {"id": view.id, "element_id": view.bpmn_id, "name": view.name, "lane": view.lane,
            "instance_index": view.instance_index,
            "due_at": view.due_at.isoformat() if view.due_at else None,
            "form": [{"id": f.id, "type": f.type, "label": f.label, "default": f.default,
                      "options": [list(o) for o in f.options], "required": f.required}
                     for f in view.form]}


def _error(number: int, exc: Exception) -> dict:
    """The refused action: its number, element, a code with parameters (the web layer words it)
    and the library's own message (kept for the log, never shown on a Chinese page)."""
    error: dict[str, Any] = {"action": number, "message": str(exc), "element_id": None,
                             "code": "failed", "params": {}}
    if isinstance(exc, DryRunRefused):
        error.update(code=exc.code, params=dict(exc.params))
    elif isinstance(exc, EngineStepFailed):
        error["element_id"] = exc.element_id
        error.update(_step_failure(exc))
    elif isinstance(exc, TaskNotReady):
        error.update(element_id=exc.bpmn_id, code="not_ready")
    elif isinstance(exc, FormInvalid):
        error.update(field_errors=exc.errors, code="form")
    elif isinstance(exc, (ValueError, KeyError)):
        error["code"] = "bad_action"
    return error


def _step_failure(exc: EngineStepFailed) -> dict:
    """Which expression failed and why, from the library's wrapped exception chain."""
    match = EXPRESSION_IN_MESSAGE.search(str(exc))
    inner = _expression_error(exc)
    if match is None and inner is None:
        return {"code": "step_failed", "params": {}}
    expression = match.group("expr") if match else ""
    unknown = UNKNOWN_NAME.search(str(inner or exc))
    if unknown:
        return {"code": "missing_data", "params": {"name": unknown.group("name"),
                                                   "expression": expression}}
    return {"code": "expression", "params": {"expression": expression,
                                             "detail": str(inner) if inner else ""}}


def _expression_error(exc: BaseException | None) -> ExpressionError | None:
    for _depth in range(10):
        if exc is None or isinstance(exc, ExpressionError):
            return exc
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    return None
