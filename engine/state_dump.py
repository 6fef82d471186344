"""The state text jiefen saves per step: the library's serialization, built faster.

``dump`` gives the same JSON document as ``serializer.serialize_json`` (the same keys and values;
tests/engine/test_state_dump.py compares them) with two costs taken out: the tasks are converted
here in one loop instead of through the registry's per-object dispatch, and the text is written
by orjson (compact, UTF-8 instead of \\u escapes). orjson writes a few values differently from the
library's encoder (a UUID as a bare string, an enum that is not a str or int by value, NaN and
infinities as null); a state holding any of those in its data, or anything orjson refuses
(integers beyond 64 bits, keys that are not text), is written by the library's encoder as before.
Loading reads either text.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from types import ModuleType
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer

from engine.compaction import ATTRIBUTE as COMPACTED

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump(serializer: BpmnWorkflowSerializer, workflow: BpmnWorkflow) -> str:
    """The workflow as JSON text (see the module doc)."""
    registry = serializer.registry
    registry._encoder_mode = True   # as serialize_json: nested objects are left to the encoder
    try:
        builder = _Builder(registry, serializer._encoder_cls)
        dct = builder.workflow(workflow)
    finally:
        registry._encoder_mode = False
    if builder.unknown:   # a class the registry does not name: the library's own path
        return serializer.serialize_json(workflow)
    dct[serializer.VERSION_KEY] = serializer.VERSION
    if builder.safe:
        try:
            return orjson.dumps(dct, default=builder.default, option=_OPTIONS).decode()
        except TypeError:   # orjson.JSONEncodeError: a big integer, a key not text, ...
            pass
    return json.dumps(dct, cls=serializer._encoder_cls)


class _Builder:
    """Builds the dict of a workflow as the library's converters do in encoder mode."""

    def __init__(self, registry: DefaultRegistry, encoder_cls: type[json.JSONEncoder]):
        self.registry, self.encoder_cls = registry, encoder_cls
        self.safe = True     # no value orjson would write differently seen so far
        self.unknown = False

    def default(self, obj: Any) -> Any:
        """The library encoder's ``default`` (its SpiffEncoder), for orjson."""
        typename = self.registry.typenames.get(type(obj))
        if typename is not None:
            return self.registry.convert_to_dict[typename](obj)
        if callable(obj) or isinstance(obj, ModuleType):
            return None
        if isinstance(obj, set):
            return list(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    def _typename(self, obj: Any) -> str | None:
        name = self.registry.typenames.get(type(obj))
        self.unknown = self.unknown or name is None
        return name

    def _check(self, value: Any) -> None:
        if self.safe and not _plain(value):
            self.safe = False

    def workflow(self, workflow: BpmnWorkflow) -> dict:
        """BpmnWorkflowConverter.to_dict as engine/serializer.py overrides it."""
        dct = self._common(workflow)
        dct["spec_version"] = workflow.spec_version
        dct["subprocesses"] = {str(k): self._subprocess(sp) for k, sp in workflow.subprocesses.items()}
        events = self.registry.convert(workflow.bpmn_events)
        if events:
            # events thrown out of the process (a terminate end event's stay here): what the
            # library's encoder writes of them, read back, so orjson writes the same values
            events = json.loads(json.dumps(events, cls=self.encoder_cls))
            self._check(events)
        dct["bpmn_events"] = events
        compacted = getattr(workflow, COMPACTED, None)
        if compacted and (compacted["rows"] or compacted["tasks"]):
            dct[COMPACTED] = compacted
        dct["typename"] = self._typename(workflow)
        return dct

    def _subprocess(self, sub: Any) -> dict:
        """BpmnSubWorkflowConverter.to_dict."""
        dct = self._common(sub)
        dct["parent_task_id"] = str(sub.parent_task_id)
        dct["spec"] = sub.spec.name
        dct["typename"] = self._typename(sub)
        return dct

    def _common(self, workflow: Any) -> dict:
        """WorkflowConverter.to_dict with TaskConverter.to_dict inlined for every task."""
        registry = self.registry
        data = registry.convert(registry.clean(workflow.data))
        self._check(data)
        self._check(workflow.correlations)
        last = workflow.last_task
        return {
            "data": data,
            "correlations": workflow.correlations,
            "last_task": str(last.id) if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": self._tasks(workflow),
            "root": str(workflow.task_tree.id),
        }

    def _tasks(self, workflow: Any) -> dict:
        # each id is written up to three times, and at every save of the case: its text is kept
        # by the identity of the UUID object (a task's own, and its parent's and children's
        # references to it, are one object once engine/walks.share_ids has run), from one save
        # of the workflow to the next, so no UUID is hashed here; a reference that is another
        # object is looked up as before
        tasks = workflow.tasks
        last = vars(workflow).get(_KEPT) or {}
        by_key = {}
        for tid, task in tasks.items():
            found = last.get(id(tid))
            text = found[0] if found is not None and found[2] is tid else _text(tid)
            by_key[id(tid)] = (text, task, tid)
        vars(workflow)[_KEPT] = by_key   # (its tasks as of this save: replaced at the next)
        typenames = self.registry.typenames
        out = {}
        for tid, task in tasks.items():
            sid = by_key[id(tid)][0]
            pid = task._parent
            known = by_key.get(id(pid))
            parent = known[1] if known is not None else tasks.get(pid)
            parent_text = None if parent is None else known[0] if known is not None else _text(pid)
            if parent is None:
                data, delta = task.data, {}
                self._check(data)
            else:
                own, inherited = task.data, parent.data
                updates = {k: v for k, v in own.items() if k not in inherited or v != inherited[k]}
                delta = {"updates": updates,
                         "deletions": [k for k in inherited if k not in own]}
                data = {}
                if updates:
                    self._check(updates)
            internal = task.internal_data
            if internal:
                internal = {k: v for k, v in internal.items()
                            if not callable(v) and not isinstance(v, ModuleType)}
                self._check(internal)
            else:
                internal = {}
            children = []
            for child in task._children:
                known = by_key.get(id(child))
                children.append(known[0] if known is not None else _text(child))
            out[sid] = {
                "id": sid,
                "parent": parent_text,
                "children": children,
                "last_state_change": task.last_state_change,
                "state": task.state,
                "task_spec": task.task_spec.name,
                "triggered": task.triggered,
                "internal_data": internal,
                "data": data,
                "delta": delta,
                "typename": typenames.get(type(task)) or self._typename(task),
            }
        return out


_KEPT = "_jiefen_id_texts"   # on a workflow: id(task id) -> (its text, the task, the task id)
_BY_VALUE: dict[UUID, str] = {}   # str(task id) by value, kept: UUID.__str__ is slow Python


def _text(tid: UUID) -> str:
    text = _BY_VALUE.get(tid)
    if text is None:
        if len(_BY_VALUE) >= 100_000:
            _BY_VALUE.clear()
        text = _BY_VALUE[tid] = str(tid)
    return text


def _plain(value: Any) -> bool:
    """False if ``value`` holds something orjson writes unlike the library's encoder."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        return all(_plain(v) for v in value.values())
    if kind is list or kind is tuple:
        return all(_plain(v) for v in value)
    if isinstance(value, Enum):
        # a str or int enum (StrEnum, IntEnum, IntFlag) is that str or int to both writers;
        # orjson writes any other enum by its value, the library's encoder refuses it
        return isinstance(value, (str, int))
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, UUID):
        return False
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return all(_plain(v) for v in value)
    return True   # the encoder's default converts it (or refuses it, as the library's does)
