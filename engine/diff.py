"""Element-level diff between two versions' BPMN/DMN files (for the CLI and the diagram colours).

Elements are matched by id across all files of a bundle. For each element jiefen compares what it
executes — name, type, attributes, flows in and out, lane, documentation, form, instructions,
timers, conditions, loop settings, called process or decision, operation, DMN cells — and ignores
the drawing (bpmndi/dmndi), so moving a shape is not a change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.bpmn_parser import BPMN_NS, CAMUNDA_NS, SPIFF_NS, read_form
from engine.xmlsafe import safe_fromstring

DI_NAMESPACES = {
    "http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI", "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "http://www.omg.org/spec/DMN/20180521/DMNDI/", "http://www.omg.org/spec/DMN/20180521/DI/",
    "http://www.omg.org/spec/DMN/20180521/DC/", "http://www.omg.org/spec/DMN/20191111/DMNDI",
}
# extension children and what a process owner calls them
EXTENSION_ASPECTS = {
    f"{{{CAMUNDA_NS}}}formData": "form",
    f"{{{SPIFF_NS}}}instructionsForEndUser": "instructions",
    f"{{{SPIFF_NS}}}calledDecisionId": "decision",
    f"{{{SPIFF_NS}}}serviceTaskOperator": "operation",
    f"{{{SPIFF_NS}}}messageVariable": "message",
    f"{{{SPIFF_NS}}}messagePayload": "message",
}
CHILD_ASPECTS = {
    "documentation": "documentation", "conditionExpression": "condition",
    "timerEventDefinition": "timer", "multiInstanceLoopCharacteristics": "multi_instance",
    "standardLoopCharacteristics": "loop", "messageEventDefinition": "message",
    "errorEventDefinition": "error", "escalationEventDefinition": "escalation",
    "signalEventDefinition": "signal", "conditionalEventDefinition": "condition",
    "inputEntry": "input_entry", "outputEntry": "output_entry", "inputExpression": "expression",
    "text": "text", "description": "documentation",
}
SKIP_CHILDREN = {"incoming", "outgoing", "flowNodeRef", "extensionElements"}
# aspects a person reads or writes as text: the diff shows them before and after
TEXT_ASPECTS = ("name", "documentation", "instructions", "form", "condition", "timer")
ASPECTS = tuple(sorted({*EXTENSION_ASPECTS.values(), *CHILD_ASPECTS.values(), "type",
                        "incoming", "outgoing", "lane", "extensions", "attributes", "name",
                        "called_process", "default_flow", "attached_to", "interrupting",
                        "source", "target"}))
TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")
# the element kinds a diff names (BPMN and DMN local names); others are shown as drawn
ELEMENT_KINDS = ("process", "startEvent", "endEvent", "userTask", "serviceTask", "task",
                 "manualTask", "businessRuleTask", "sendTask", "receiveTask", "callActivity",
                 "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
                 "eventBasedGateway", "boundaryEvent", "intermediateCatchEvent",
                 "intermediateThrowEvent", "sequenceFlow", "lane", "laneSet", "participant",
                 "collaboration", "message", "error", "escalation", "signal", "dataObject",
                 "dataObjectReference", "textAnnotation", "association", "decision",
                 "decisionTable", "input", "output", "rule", "definitions")


@dataclass
class ElementChange:
    """One element that differs between two versions."""

    element_id: str
    file: str
    kind: str
    name: str | None = None
    changes: list[str] = field(default_factory=list)
    # aspect -> (before, after) for the text aspects that changed (form: a list of fields)
    texts: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"element_id": self.element_id, "file": self.file, "kind": self.kind,
                "name": self.name, "changes": self.changes,
                "texts": {k: list(v) for k, v in self.texts.items()}}


@dataclass
class BundleDiff:
    """Elements added in, removed from and changed between the old and the new version."""

    added: list[ElementChange] = field(default_factory=list)
    removed: list[ElementChange] = field(default_factory=list)
    changed: list[ElementChange] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict:
        return {"added": [c.as_dict() for c in self.added],
                "removed": [c.as_dict() for c in self.removed],
                "changed": [c.as_dict() for c in self.changed],
                "files_added": self.files_added, "files_removed": self.files_removed}


@dataclass
class _Element:
    file: str
    kind: str
    name: str | None
    aspects: dict[str, str]
    texts: dict[str, Any] = field(default_factory=dict)


def diff_bundles(old: Mapping[str, str | bytes], new: Mapping[str, str | bytes]) -> BundleDiff:
    """Compare two bundles' files ({logical name: XML}); elements are matched by id."""
    before, after = _index(old), _index(new)
    result = BundleDiff(files_added=sorted(set(new) - set(old)),
                        files_removed=sorted(set(old) - set(new)))
    for element_id in sorted(after.keys() - before.keys()):
        el = after[element_id]
        result.added.append(ElementChange(element_id, el.file, el.kind, el.name))
    for element_id in sorted(before.keys() - after.keys()):
        el = before[element_id]
        result.removed.append(ElementChange(element_id, el.file, el.kind, el.name))
    for element_id in sorted(before.keys() & after.keys()):
        old_el, el = before[element_id], after[element_id]
        what = _compare(old_el, el)
        if what:
            texts = {k: (old_el.texts.get(k), el.texts.get(k)) for k in TEXT_ASPECTS
                     if k in what and old_el.texts.get(k) != el.texts.get(k)}
            result.changed.append(ElementChange(element_id, el.file, el.kind, el.name, what,
                                                texts))
    return result


def _compare(a: _Element, b: _Element) -> list[str]:
    keys = sorted(set(a.aspects) | set(b.aspects))
    return [key for key in keys if a.aspects.get(key) != b.aspects.get(key)]


def _index(files: Mapping[str, str | bytes]) -> dict[str, _Element]:
    out: dict[str, _Element] = {}
    for name in sorted(files):
        data = files[name]
        root = safe_fromstring(data.encode("utf-8") if isinstance(data, str) else data, name)
        out.update(_elements(root, name))
    return out


def _elements(root: etree._Element, filename: str) -> dict[str, _Element]:
    flows_in: dict[str, list[str]] = defaultdict(list)
    flows_out: dict[str, list[str]] = defaultdict(list)
    lanes: dict[str, str] = {}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        flows_out[flow.get("sourceRef")].append(flow.get("targetRef"))
        flows_in[flow.get("targetRef")].append(flow.get("sourceRef"))
    for lane in root.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind(f"{{{BPMN_NS}}}flowNodeRef"):
            lanes[(ref.text or "").strip()] = lane.get("name") or lane.get("id")
    out = {}
    for el in root.iter():
        if not _is_own_element(el) or el is root or _in_extensions(el):
            continue
        element_id = el.get("id")
        aspects = _aspects(el)
        if element_id in flows_in or element_id in flows_out:
            aspects["incoming"] = ",".join(sorted(flows_in.get(element_id, [])))
            aspects["outgoing"] = ",".join(sorted(flows_out.get(element_id, [])))
        if element_id in lanes:
            aspects["lane"] = lanes[element_id]
        out[element_id] = _Element(filename, etree.QName(el).localname, el.get("name")
                                   or el.get("label"), aspects, _texts(el))
    return out


def _texts(el: etree._Element) -> dict[str, Any]:
    """The element's text aspects as written (what the diff shows side by side)."""
    out: dict[str, Any] = {"name": el.get("name") or el.get("label")}
    for child in el:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local in ("documentation", "description"):
            out["documentation"] = _joined(out.get("documentation"), _text(child))
        elif local == "conditionExpression":
            out["condition"] = _text(child)
        elif local == "conditionalEventDefinition":
            out["condition"] = _text(child.find(f"{{{BPMN_NS}}}condition"))
        elif local == "timerEventDefinition":
            out["timer"] = [[etree.QName(t).localname, _text(t)] for t in child
                            if isinstance(t.tag, str) and etree.QName(t).localname in TIMER_TAGS]
    for ext in el.iterfind(f"{{{BPMN_NS}}}extensionElements"):
        for child in ext:
            if isinstance(child.tag, str) and child.tag == f"{{{SPIFF_NS}}}instructionsForEndUser":
                out["instructions"] = _text(child)
    fields = read_form(el)
    if fields:
        out["form"] = [{"id": f["id"], "label": f["label"], "type": f["type"],
                        "required": "required" in (f.get("validation") or {}),
                        "options": [o[1] for o in f["options"]]} for f in fields]
    return {k: v for k, v in out.items() if v not in (None, "", [])}


def _text(el: etree._Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _joined(first: str | None, second: str) -> str:
    return f"{first}\n{second}" if first else second


def _is_drawing(el: etree._Element) -> bool:
    return etree.QName(el).namespace in DI_NAMESPACES


def _aspects(el: etree._Element) -> dict[str, str]:
    aspects: dict[str, str] = {"type": etree.QName(el).localname}
    for key, value in sorted(el.attrib.items()):
        if key == "id":
            continue
        aspects[_attribute_aspect(key)] = aspects.get(_attribute_aspect(key), "") + f"{key}={value};"
    for child in el:
        if not isinstance(child.tag, str) or _is_drawing(child) or _is_own_element(child):
            continue
        local = etree.QName(child).localname
        if local in SKIP_CHILDREN:
            continue
        aspect = CHILD_ASPECTS.get(local, local)
        aspects[aspect] = aspects.get(aspect, "") + _canonical(child)
    for ext in el.iterfind(f"{{{BPMN_NS}}}extensionElements"):
        for child in ext:
            if not isinstance(child.tag, str):
                continue
            aspect = EXTENSION_ASPECTS.get(child.tag, "extensions")
            text = repr(read_form(el)) if aspect == "form" else _canonical(child)
            aspects[aspect] = aspects.get(aspect, "") + text
    if el.tag == f"{{{BPMN_NS}}}sequenceFlow":
        aspects.pop("incoming", None)
    return aspects


def _attribute_aspect(key: str) -> str:
    local = etree.QName(key).localname if key.startswith("{") else key
    return {"name": "name", "calledElement": "called_process", "default": "default_flow",
            "attachedToRef": "attached_to", "cancelActivity": "interrupting",
            "sourceRef": "source", "targetRef": "target", "label": "name"}.get(local, "attributes")


def _is_own_element(el: etree._Element) -> bool:
    """An element compared on its own (has an id and is not a part of its parent, such as an
    event definition or a DMN cell, nor a drawing)."""
    if not isinstance(el.tag, str) or not el.get("id") or _is_drawing(el):
        return False
    return etree.QName(el).localname not in CHILD_ASPECTS


def _in_extensions(el: etree._Element) -> bool:
    """Form fields and other extension children carry ids of their own; they belong to their task."""
    return any(etree.QName(a).localname == "extensionElements" for a in el.iterancestors()
               if isinstance(a.tag, str))


def _canonical(el: etree._Element) -> str:
    """Text form independent of prefixes, whitespace and attribute order."""
    parts = [etree.QName(el).localname]
    parts.extend(f"@{k}={v}" for k, v in sorted(el.attrib.items()) if k != "id")
    text = (el.text or "").strip()
    if text:
        parts.append(f"'{text}'")
    children = [_canonical(c) for c in el if isinstance(c.tag, str) and not _is_drawing(c)]
    return "(" + " ".join(parts + children) + ")"
