"""Workflow state as JSON without the embedded spec; the restricted engine re-attached on load."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from importlib.metadata import version
from typing import TypeAlias
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as _SERIALIZER_VERSION
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.compaction import ATTRIBUTE as COMPACTED
from engine.script_engine import JiefenScriptEngine

Serializer: TypeAlias = BpmnWorkflowSerializer  # the type Services.serializer holds
SpecLookup = Callable[[str], tuple[BpmnProcessSpec, dict]]


def make_serializer(script_engine: JiefenScriptEngine, spec_lookup: SpecLookup) -> Serializer:
    """``spec_lookup(spec_version) -> (spec, subprocess_specs)``; specs live once per version."""

    class SpecRefWorkflowConverter(BpmnWorkflowConverter):
        def to_dict(self, workflow):
            dct = WorkflowConverter.to_dict(self, workflow)
            dct["spec_version"] = workflow.spec_version
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            compacted = getattr(workflow, COMPACTED, None)
            if compacted and (compacted["rows"] or compacted["tasks"]):
                dct[COMPACTED] = compacted   # finished sub-processes dropped (engine/compaction.py)
            return dct

        def from_dict(self, dct):
            version = dct.pop("spec_version")
            spec, subprocess_specs = spec_lookup(version)
            workflow = self.target_class(spec, subprocess_specs, deserializing=True)
            workflow.spec_version = version
            setattr(workflow, COMPACTED, dct.pop(COMPACTED, None))
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    class EngineSerializer(BpmnWorkflowSerializer):
        def from_dict(self, dct, **kwargs):
            obj = super().from_dict(dct, **kwargs)
            if isinstance(obj, BpmnWorkflow):
                # never serialized: without this the library's eval-based engine comes back
                obj.script_engine = script_engine  # subprocesses delegate to the top workflow
            return obj

    registry = BpmnWorkflowSerializer.configure({**SPIFF_CONFIG, BpmnWorkflow: SpecRefWorkflowConverter})
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return EngineSerializer(registry)


SERIALIZER_VERSION = _SERIALIZER_VERSION
LIBRARY_VERSION = version("SpiffWorkflow")  # the installed release, stored beside each state
