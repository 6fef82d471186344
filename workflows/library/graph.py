"""Reading a deployed version's BPMN: the file that draws a process, and what follows a task."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from engine.bpmn_parser import BPMN_NS
from engine.errors import BpmnValidationError
from engine.xmlsafe import safe_fromstring
from workflows.library import contract

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
GATEWAYS = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}
MAX_HOPS = 3


def _parse(files: dict[str, str]) -> list[tuple[str, etree._Element]]:
    out = []
    for name, text in sorted(files.items()):
        if name.endswith(".bpmn"):
            out.append((name, safe_fromstring(text.encode(), name)))
    return out


def process_source(files: dict[str, str], process_id: str) -> str | None:
    """The source text of the .bpmn file that defines ``process_id`` (None if absent)."""
    for name, root in _parse(files):
        if root.find(f"{BPMN}process[@id='{_quoted(process_id)}']") is not None:
            return files[name]
    return None


def _quoted(value: str) -> str:
    # ids are XML NCNames; anything else cannot match and must not reach the XPath
    return value if all(ch.isalnum() or ch in "_-." for ch in value) else "\x00"


def next_steps(files: dict[str, str], process_id: str, bpmn_id: str) -> list[dict]:
    """What follows a task: each outgoing path with its label and the next named element.

    Gateways are looked through (their outgoing flow names say which way is which); boundary
    events on the task (deadlines) are listed too, marked ``deadline``.
    """
    for _name, root in _parse(files):
        process = root.find(f"{BPMN}process[@id='{_quoted(process_id)}']")
        if process is None:  # a task of an embedded sub-process runs in a flow of that id
            process = root.find(f".//{BPMN}subProcess[@id='{_quoted(process_id)}']")
        if process is None:
            continue
        index = _Index(process)
        if bpmn_id not in index.nodes:
            return []
        steps = [step for flow in index.outgoing.get(bpmn_id, [])
                 for step in index.follow(flow, "", 0)]
        steps += index.deadlines(bpmn_id)
        return _unique(steps)
    return []


class _Index:
    """Flow nodes (including those in subprocesses) and flows of one process."""

    def __init__(self, process: etree._Element):
        self.nodes: dict[str, etree._Element] = {}
        self.flows: dict[str, etree._Element] = {}
        self.outgoing: dict[str, list[str]] = {}
        for el in process.iter():
            if not isinstance(el.tag, str) or not el.tag.startswith(BPMN) or not el.get("id"):
                continue
            if etree.QName(el).localname == "sequenceFlow":
                self.flows[el.get("id")] = el
                self.outgoing.setdefault(el.get("sourceRef"), []).append(el.get("id"))
            else:
                self.nodes[el.get("id")] = el

    def follow(self, flow_id: str, label: str, hops: int, question: str = "") -> list[dict]:
        flow = self.flows[flow_id]
        if flow.get("name"):   # an answer ("有") means little without its gateway's question
            label, question = flow.get("name"), self._gateway_name(flow.get("sourceRef"))
        target = self.nodes.get(flow.get("targetRef"))
        if target is None:
            return []
        kind = etree.QName(target).localname
        if kind in GATEWAYS and hops < MAX_HOPS:
            return [step for out in self.outgoing.get(target.get("id"), [])
                    for step in self.follow(out, label, hops + 1, question)] or []
        return [{"when": label, "question": question if label else "",
                 "name": target.get("name") or "", "kind": kind, "id": target.get("id")}]

    def _gateway_name(self, node_id: str | None) -> str:
        node = self.nodes.get(node_id or "")
        if node is None or etree.QName(node).localname not in GATEWAYS:
            return ""
        return node.get("name") or ""

    def deadlines(self, bpmn_id: str) -> list[dict]:
        out = []
        for node_id, el in self.nodes.items():
            if etree.QName(el).localname == "boundaryEvent" and el.get("attachedToRef") == bpmn_id \
                    and el.find(f"{BPMN}timerEventDefinition") is not None:
                then = [self.nodes.get(self.flows[f].get("targetRef"))
                        for f in self.outgoing.get(node_id, [])]
                names = "、".join(t.get("name") or "" for t in then if t is not None)
                out.append({"when": el.get("name") or "", "name": names, "kind": "deadline",
                            "id": node_id})
        return out


def _unique(steps: list[dict]) -> list[dict]:
    seen, out = set(), []
    for step in steps:
        key = (step["when"], step["id"])
        if key not in seen:
            seen.add(key)
            out.append(step)
    return out


def process_names(files: Mapping[str, str]) -> dict[str, str]:
    """Process id -> name from BPMN files (unparsable files are skipped)."""
    names = {}
    for filename, text in files.items():
        if not filename.endswith(".bpmn"):
            continue
        root = parse_or_none(text, filename)
        if root is None:
            continue
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            names[process.get("id")] = process.get("name") or process.get("id")
    return names


def element_names(files: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Element id -> (its name on one line, "" when it has none; its kind, e.g.
    exclusiveGateway) over the BPMN files: a page names an element by its name, else by kind."""
    names: dict[str, tuple[str, str]] = {}
    for filename, text in sorted(files.items()):
        root = parse_or_none(text, filename) if filename.endswith(".bpmn") else None
        for element in root.iter(f"{BPMN}*") if root is not None else ():
            if element.get("id"):
                names.setdefault(element.get("id"), (" ".join((element.get("name") or "").split()),
                                                     etree.QName(element).localname))
    return names


def decision_names(text: str, filename: str) -> dict[str, str]:
    root = parse_or_none(text, filename)
    if root is None:
        return {}
    return {el.get("id"): el.get("name") or el.get("id") for el in root.iter()
            if isinstance(el.tag, str) and etree.QName(el).localname == "decision"}


def parse_or_none(text: str | bytes, filename: str):
    try:
        return safe_fromstring(text.encode("utf-8") if isinstance(text, str) else text, filename)
    except BpmnValidationError:
        return None


def field_words(files: Mapping[str, str]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """What the process calls its data fields and their coded values: (form field and decision
    output labels, {field: {option id: option name}} of the enum form fields); the first
    definition of a field wins. Then the product's words for the data it writes itself
    (contract.DATA_WORDS), and last a service task's name for a result variable no one else
    names. For pages that show task data in words."""
    labels: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    results: dict[str, str] = {}
    for name, text in sorted(files.items()):
        root = parse_or_none(text, name) if name.endswith((".bpmn", ".dmn")) else None
        for element in root.iter() if root is not None else ():
            if not isinstance(element.tag, str):
                continue
            local = etree.QName(element).localname
            key = element.get("id") if local == "formField" else \
                element.get("name") if local == "output" else None
            if key and element.get("label"):
                labels.setdefault(key, element.get("label"))
            if local == "formField" and key and key not in options:
                values = {v.get("id"): v.get("name") for v in element
                          if isinstance(v.tag, str) and etree.QName(v).localname == "value"
                          and v.get("id") and v.get("name")}
                if values:
                    options[key] = values
            result = element.get("resultVariable") if local == "serviceTaskOperator" else None
            task = _enclosing(element, "serviceTask") if result else None
            if result and task is not None and task.get("name"):
                results.setdefault(result, " ".join(task.get("name").split()))
    for key, words in (*contract.DATA_WORDS.items(), *results.items()):
        labels.setdefault(key, words)
    for key, like in contract.DATA_OPTIONS_OF.items():
        if like in options:
            options.setdefault(key, options[like])
    return labels, options


def _enclosing(element: Any, localname: str) -> Any:
    """The nearest ancestor of ``element`` with that local name, or None."""
    for parent in element.iterancestors():
        if isinstance(parent.tag, str) and etree.QName(parent).localname == localname:
            return parent
    return None
