"""Captures every task state change of a workflow during one unit of work.

SpiffWorkflow logs each change to the ``spiff.task`` logger with the task id and the new state as
record extras; a context variable routes the records to the recorder of the running step."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.dictionary import DictionaryConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge

_recorder: ContextVar[TaskEventRecorder | None] = ContextVar("jiefen_recorder", default=None)


class _Dispatch(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        recorder = _recorder.get()
        if recorder is not None and hasattr(record, "task_id"):
            try:
                recorder.on_record(record)
            except Exception:  # handlers run inside the engine: raising would abort its step
                self.handleError(record)


_log = logging.getLogger("spiff.task")
_log.setLevel(logging.INFO)  # below INFO spiff attaches full task data to every record
_log.propagate = False
if not any(isinstance(h, _Dispatch) for h in _log.handlers):
    _log.addHandler(_Dispatch())


def json_copy(value: Any, registry: DictionaryConverter | None = None) -> Any:
    """Deep copy through JSON now: 3.2.0 shares nested values between task snapshots."""
    converted = registry.convert(value) if registry is not None else value
    return json.loads(json.dumps(converted, default=str))


class TaskEventRecorder:
    """Collects task state changes; ``events`` are plain JSON-able dicts."""

    def __init__(self, workflow: BpmnWorkflow, registry: DictionaryConverter | None,
                 clock: Callable[[], datetime]):
        self.workflow, self.registry, self.clock = workflow, registry, clock
        self.last = {tid: t.state for tid, t in workflow.tasks.items()}  # get_tasks() is slow
        for sub in workflow.subprocesses.values():
            self.last.update((tid, t.state) for tid, t in sub.tasks.items())
        self.events: list[dict] = []

    def __enter__(self) -> TaskEventRecorder:
        self._token = _recorder.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _recorder.reset(self._token)

    def on_record(self, record: logging.LogRecord) -> None:
        extra = vars(record)  # the extras the library logs: task_id, state, workflow_spec, ...
        task_id = extra["task_id"]
        try:
            task = self.workflow.get_task_from_id(task_id)
        except Exception:  # the root task of a subprocess logs before the subprocess is registered
            task = None
        previous = self.last.get(task_id)
        state = task.state if task is not None else TaskState.get_value(extra["state"])
        self.last[task_id] = state
        spec = task.task_spec if task is not None else None
        before = after = delta = None
        if state == TaskState.COMPLETED and task is not None:
            before, after = self._before(task), json_copy(task.data, self.registry)
            delta = {"updates": DeepMerge.get_updated_keys(before or {}, after),
                     "deletions": DeepMerge.get_deleted_keys(before or {}, after)}
        self.events.append({
            "at": self.clock().isoformat(), "task_id": str(task_id),
            "process": extra["workflow_spec"],
            "task": getattr(spec, "bpmn_id", None) or extra["task_spec"],
            "type": extra["task_type"], "bpmn_name": getattr(spec, "bpmn_name", None),
            "from": TaskState.get_name(previous) if previous is not None else None,
            "to": extra["state"],
            "info": _task_info(task),
            "data_before": before, "data_after": after, "delta": delta,
        })

    def _before(self, task: Task | None) -> Any:
        if task is None or task.parent is None:
            return None
        return json_copy(task.parent.data, self.registry)


def _task_info(task: Task | None) -> dict:
    if task is None:
        return {}
    try:
        return json_copy(task.task_spec.task_info(task))
    except Exception:  # some specs need state they do not have yet
        return {}
