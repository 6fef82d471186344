"""Captures every task state change of a workflow during one unit of work.

SpiffWorkflow logs each change to the ``spiff.task`` logger with the task id and the new state as
record extras; a context variable routes the records to the recorder of the running step."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from types import ModuleType
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.dictionary import DictionaryConverter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge

_recorder: ContextVar[TaskEventRecorder | None] = ContextVar("jiefen_recorder", default=None)
_handed: ContextVar[bool] = ContextVar("jiefen_recorder_handed", default=False)   # seen already


class _Dispatch(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        recorder = _recorder.get()
        if recorder is not None and hasattr(record, "task_id") and not _handed.get():
            try:
                recorder.on_change(vars(record))
            except Exception:  # handlers run inside the engine: raising would abort its step
                self.handleError(record)


class _TaskLogger(logging.Logger):
    """The ``spiff.task`` logger, handing a state change straight to the running recorder
    (building a log record and finding its caller cost more than recording the change); a
    record is still made for any other handler, without the dispatcher seeing it again."""

    def info(self, msg: object, *args: object, **kwargs: Any) -> None:
        recorder = _recorder.get()
        extra = kwargs.get("extra")
        kwargs["stacklevel"] = kwargs.get("stacklevel", 1) + 1   # a record names our caller
        if recorder is None or not extra or "task_id" not in extra:
            if self.handlers != [_DISPATCH] or self.propagate or self.filters:
                super().info(msg, *args, **kwargs)
            return   # (else only the dispatcher would see the record, and keep nothing of it)
        if not self._direct():
            super().info(msg, *args, **kwargs)
            return
        try:
            recorder.on_change(extra)
        except Exception:  # as the dispatcher: raising would abort the engine's step
            _DISPATCH.handleError(self.makeRecord(self.name, logging.INFO, "(unknown file)", 0,
                                                  msg, args, None, extra=extra))
        if self.propagate or len(self.handlers) > 1:
            token = _handed.set(True)
            try:
                super().info(msg, *args, **kwargs)
            finally:
                _handed.reset(token)

    def _direct(self) -> bool:
        """Whether a record would reach the dispatcher."""
        return (_DISPATCH in self.handlers and not self.filters and not _DISPATCH.filters
                and _DISPATCH.level <= logging.INFO and not self.disabled
                and self.isEnabledFor(logging.INFO))


_log = logging.getLogger("spiff.task")
_log.setLevel(logging.INFO)  # below INFO spiff attaches full task data to every record
_log.propagate = False
_DISPATCH = next((h for h in _log.handlers if isinstance(h, _Dispatch)), None) or _Dispatch()
if _DISPATCH not in _log.handlers:
    _log.addHandler(_DISPATCH)
if type(_log) is logging.Logger:   # the library holds this very object: only its class changes
    _log.__class__ = _TaskLogger


_COPY_JSON = json.JSONEncoder(default=str)       # built once: json.dumps with options builds
_REF_JSON = json.JSONEncoder(default=str, ensure_ascii=False)   # one per call


def json_copy(value: Any, registry: DictionaryConverter | None = None) -> Any:
    """Deep copy through JSON now: 3.2.0 shares nested values between task snapshots."""
    converted = registry.convert(value) if registry is not None else value
    return json.loads(_COPY_JSON.encode(converted))


STEP_FORMAT = 2   # one audit event per engine step (transitions + distinct data); 1: a row each
TRANSITION_KEYS = ("task_id", "process", "task", "type", "bpmn_name", "from", "to", "info")


class TaskEventRecorder:
    """Collects the task state changes of one engine step.

    ``step_payload()`` is what the audit keeps: the transitions, each completed task naming its data
    before and after by reference into one table of the distinct data values of the step (a step
    that passes the same data through many gateways stores it once). ``events`` expands it into one
    plain dict per transition (``expand_step``), as replay and history read them."""

    def __init__(self, workflow: BpmnWorkflow, registry: DictionaryConverter | None,
                 clock: Callable[[], datetime]):
        self.workflow, self.registry, self.clock = workflow, registry, clock
        self.last = {tid: t._state for tid, t in workflow.tasks.items()}  # get_tasks() is slow
        for sub in workflow.subprocesses.values():
            self.last.update((tid, t._state) for tid, t in sub.tasks.items())
        self.transitions: list[dict] = []
        self._refs: dict[str, str] = {}      # JSON text of a data value -> its reference
        self.at: str | None = None
        self._text: Callable[[Any], str] = _REF_JSON.encode
        if registry is not None:
            self._text = _ref_writer(registry)

    def __enter__(self) -> TaskEventRecorder:
        self._token = _recorder.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _recorder.reset(self._token)

    def on_change(self, extra: dict) -> None:
        """One state change, as the extras the library logs: task_id, state, workflow_spec, ..."""
        task_id = extra["task_id"]
        try:
            task = self.workflow.get_task_from_id(task_id)
        except Exception:  # the root task of a subprocess logs before the subprocess is registered
            task = None
        previous = self.last.get(task_id)
        state = task.state if task is not None else TaskState.get_value(extra["state"])
        self.last[task_id] = state
        spec = task.task_spec if task is not None else None
        before = after = None
        if state == TaskState.COMPLETED and task is not None:
            # serialized now: the library shares nested values between tasks, a later task
            # could change them
            before = self._ref(task.parent.data) if task.parent is not None else None
            after = self._ref(task.data)
        if self.at is None:
            self.at = self.clock().isoformat()
        self.transitions.append({
            "task_id": str(task_id), "process": extra["workflow_spec"],
            "task": getattr(spec, "bpmn_id", None) or extra["task_spec"],
            "type": extra["task_type"], "bpmn_name": getattr(spec, "bpmn_name", None),
            "from": _state_name(previous) if previous is not None else None,
            "to": extra["state"], "info": _task_info(task),
            "data_before": before, "data_after": after,
        })

    def _ref(self, value: Any) -> str:
        text = self._text(value)
        ref = self._refs.get(text)
        if ref is None:
            ref = self._refs[text] = f"d{len(self._refs)}"
        return ref

    def step_payload(self) -> dict:
        """The audit payload of the step (``format`` 2); empty transitions if nothing changed."""
        return {"format": STEP_FORMAT, "at": self.at, "transitions": self.transitions,
                "data": {ref: json.loads(text) for text, ref in self._refs.items()}}

    @property
    def events(self) -> list[dict]:
        """One plain dict per transition with its data before and after (replay compares them)."""
        return expand_step(self.step_payload())


def _ref_writer(registry: DictionaryConverter) -> Callable[[Any], str]:
    """``_REF_JSON.encode(registry.convert(value))`` without first copying the whole value
    through the registry: the encoder asks only about what JSON has no form for, and gets what
    the registry's copy would hold there. The copy also leaves out callables and modules held in
    a dict; a value holding one (rare) is copied as before."""
    native = (dict, list, tuple, str, int, float)
    if any(issubclass(cls, native) for cls in registry.typenames):
        # the registry would convert a value the encoder writes as it is: copy first
        return lambda value: _REF_JSON.encode(registry.convert(value))
    typenames, to_dict = registry.typenames, registry.convert_to_dict

    def default(obj: Any) -> Any:
        if callable(obj) or isinstance(obj, ModuleType):
            raise _Copy
        typename = typenames.get(obj.__class__)
        if typename in to_dict:
            # the copy holds what to_dict returns, and _REF_JSON writes whatever in it JSON has
            # no form for with str()
            return json.loads(_REF_JSON.encode(to_dict[typename](obj)))
        if isinstance(obj, set):   # the copy holds a set of copied items, written with str()
            return str(registry.convert(obj))
        return str(obj)

    encoder = json.JSONEncoder(default=default, ensure_ascii=False)

    def write(value: Any) -> str:
        try:
            return encoder.encode(value)
        except _Copy:
            return _REF_JSON.encode(registry.convert(value))

    return write


class _Copy(Exception):
    """The value holds what the registry's copy leaves out."""


_STATE_NAMES = {value: TaskState.get_name(value) for value in TaskState._values}


def _state_name(state: int) -> str:
    """TaskState.get_name without the two dicts it builds per call."""
    name = _STATE_NAMES.get(state)
    return name if name is not None else TaskState.get_name(state)


def expand_step(payload: dict) -> list[dict]:
    """The transitions of a step payload as they were once recorded one event each: at, task,
    states, info, the completed task's data before and after and the delta between them."""
    data = payload.get("data") or {}
    out = []
    for item in payload.get("transitions") or []:
        before_ref, after_ref = item.get("data_before"), item.get("data_after")
        before = json_copy(data.get(before_ref)) if before_ref is not None else None
        after = json_copy(data.get(after_ref)) if after_ref is not None else None
        delta = None
        if after_ref is not None:
            delta = {"updates": DeepMerge.get_updated_keys(before or {}, after),
                     "deletions": DeepMerge.get_deleted_keys(before or {}, after)}
        out.append({"at": payload.get("at"), **{k: item.get(k) for k in TRANSITION_KEYS},
                    "data_before": before, "data_after": after, "delta": delta})
    return out


def _task_info(task: Task | None) -> dict:
    if task is None:
        return {}
    try:
        info = task.task_spec.task_info(task)
        if type(info) is dict and all(type(k) is str and type(v) in _SCALARS
                                      for k, v in info.items()):
            return dict(info)   # what the JSON round trip gives back (most tasks: {})
        return json_copy(info)
    except Exception:  # some specs need state they do not have yet
        return {}


_SCALARS = (str, int, bool, type(None))   # the same after a JSON round trip
