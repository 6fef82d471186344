"""Structural lint of a BPMN process: unreachable elements and gateways without a default flow."""

from __future__ import annotations

from collections import defaultdict

from lxml import etree

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
FLOW_NODES = {"task", "userTask", "manualTask", "serviceTask", "businessRuleTask", "sendTask",
              "receiveTask", "callActivity", "subProcess", "transaction", "exclusiveGateway",
              "parallelGateway", "inclusiveGateway", "eventBasedGateway", "startEvent", "endEvent",
              "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "scriptTask"}


def reachability_problems(container: etree._Element) -> list[tuple[str, str]]:
    """(element id, message) for a process or subprocess, recursing into subprocesses."""
    nodes = {el.get("id"): el for el in container
             if isinstance(el.tag, str) and el.tag.startswith(BPMN) and _local(el) in FLOW_NODES}
    outgoing: dict[str, list[str]] = defaultdict(list)
    for flow in container.iterfind(f"{BPMN}sequenceFlow"):
        outgoing[flow.get("sourceRef")].append(flow.get("targetRef"))
    attached: dict[str, list[str]] = defaultdict(list)
    for node_id, el in nodes.items():
        if _local(el) == "boundaryEvent":
            attached[el.get("attachedToRef")].append(node_id)
    problems = _unreachable(nodes, outgoing, attached)
    problems.extend(_gateway_problems(container, nodes))
    for el in nodes.values():
        if _local(el) in ("subProcess", "transaction"):
            problems.extend(reachability_problems(el))
    return problems


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _starts(nodes: dict[str, etree._Element]) -> list[str]:
    starts = [nid for nid, el in nodes.items() if _local(el) == "startEvent"]
    # event subprocesses are started by their own events
    starts += [nid for nid, el in nodes.items()
               if _local(el) == "subProcess" and el.get("triggeredByEvent") == "true"]
    return starts


def _unreachable(nodes, outgoing, attached) -> list[tuple[str, str]]:
    seen: set[str] = set()
    todo = _starts(nodes)
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(outgoing.get(current, []))
        todo.extend(attached.get(current, []))
    return [(nid, "element cannot be reached from a start event")
            for nid in nodes if nid not in seen]


def _gateway_problems(container, nodes) -> list[tuple[str, str]]:
    problems = []
    flows = list(container.iterfind(f"{BPMN}sequenceFlow"))
    for node_id, el in nodes.items():
        if _local(el) not in ("exclusiveGateway", "inclusiveGateway"):
            continue
        out = [f for f in flows if f.get("sourceRef") == node_id]
        conditional = [f for f in out if f.find(f"{BPMN}conditionExpression") is not None]
        if len(out) > 1 and conditional and not el.get("default"):
            problems.append((node_id, "gateway has conditions but no default flow"))
    return problems
