"""SpiffWorkflow script engine that evaluates through the restricted evaluator and never executes."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, tzinfo
from typing import Any, Protocol

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.task import Task

from engine import clock
from engine.deadlines import SHANGHAI
from engine.expressions import BASE_FUNCTIONS, Evaluator
from engine.limits import DEFAULT_MAX_CARDINALITY, check_cardinality, tick
from engine.operations import OperationRegistry


class DeadlineCalendar(Protocol):
    def resolve(self, spec: str, start: datetime) -> datetime: ...


class SafeExpressionEnvironment(BasePythonScriptEngineEnvironment):
    """Expressions only; scripts are refused."""

    def __init__(self, evaluator: Evaluator):
        super().__init__()
        self.evaluator = evaluator

    def evaluate(self, expression, context, external_context=None):
        # task data is user input: it must never reach dunder names
        names = {k: v for k, v in {**(external_context or {}), **context}.items()
                 if not str(k).startswith("_")}
        return self.evaluator.evaluate(expression, names)

    def execute(self, script, context, external_context=None):
        raise PermissionError("script execution is disabled")

    def call_service(self, context, **kwargs):
        raise PermissionError("service calls go through JiefenScriptEngine.call_service")


class JiefenScriptEngine(PythonScriptEngine):
    """The only script engine jiefen uses; re-attached after every load by the serializer."""

    def __init__(self, evaluator: Evaluator, operations: OperationRegistry,
                 max_cardinality: int = DEFAULT_MAX_CARDINALITY):
        super().__init__(environment=SafeExpressionEnvironment(evaluator))
        self.evaluator = evaluator
        self.operations = operations
        self.max_cardinality = max_cardinality

    def evaluate(self, task, expression, external_context=None):
        spec = getattr(task, "task_spec", None)
        element_id = getattr(spec, "bpmn_id", None)
        tick(element_id)  # a draft's run has a budget (engine.limits); real cases have none
        value = super().evaluate(task, expression, external_context)
        if expression is not None and expression == getattr(spec, "cardinality", None):
            # before the library creates one child task per instance
            check_cardinality(value, self.max_cardinality, element_id)
        return value

    def execute(self, task, script, external_context=None):
        raise PermissionError("script execution is disabled")

    def call_service(self, task: Task, operation_name=None, operation_params=None,
                     **_kwargs) -> str:
        # overrides the whole method: the base class's error path refers to an undefined name
        params = {name: p["value"] for name, p in (operation_params or {}).items()}
        return json.dumps(self.operations.call(operation_name, task.data, params,
                                               step=str(task.id)))


def make_functions(calendar: DeadlineCalendar | None) -> dict[str, Callable[..., Any]]:
    """Functions expressions may call; ``due_at`` resolves a deadline spec with our clock."""
    functions = dict(BASE_FUNCTIONS)

    def due_at(spec: str) -> str:
        if calendar is None:
            raise ValueError("no working calendar configured")
        return calendar.resolve(str(spec), clock.now()).isoformat()

    def due_from(data: Mapping[str, Any], spec: str, name: str) -> str:
        if calendar is None:
            raise ValueError("no working calendar configured")
        start = typed_start(data.get(str(name)), getattr(calendar, "tz", SHANGHAI))
        return calendar.resolve(str(spec), start or clock.now()).isoformat()

    due_from.reads_data = True  # type: ignore[attr-defined]  # the evaluator passes task data
    functions["due_at"] = due_at
    functions["due_from"] = due_from
    return functions


def typed_start(value: Any, tz: tzinfo) -> datetime | None:
    """The start instant of a period counted from a typed date: 00:00 of that day (a calendar
    form then does not count it, 民法典 Art 201); None when the date was left empty."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tz)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"起算日期无法识别：{text!r}（应为 YYYY-MM-DD）") from None
    if moment.tzinfo is None:
        raise ValueError(f"起算时间缺少时区偏移：{text!r}")
    return moment


def make_script_engine(calendar: DeadlineCalendar | None = None,
                       operations: OperationRegistry | None = None,
                       max_cardinality: int = DEFAULT_MAX_CARDINALITY) -> JiefenScriptEngine:
    """Build the restricted script engine (multi-instances above ``max_cardinality`` refused)."""
    return JiefenScriptEngine(Evaluator(make_functions(calendar)), operations or OperationRegistry(),
                              max_cardinality)


FUNCTION_NAMES = frozenset(make_functions(None))
