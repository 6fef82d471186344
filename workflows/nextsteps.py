""""What happens next" after a task, read from the BPMN source of the instance's version."""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from engine.xmlsafe import safe_fromstring

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
NAMED = {"userTask", "manualTask", "serviceTask", "businessRuleTask", "callActivity", "subProcess",
         "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "sendTask",
         "receiveTask", "task"}
PASS_THROUGH = {"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway"}


def next_steps(files: dict[str, str], process_id: str, bpmn_id: str) -> list[dict]:
    """The named elements reachable from a task through its outgoing flows and gateways.

    Each step is ``{"name", "type", "condition"}``; condition is the name of the flow that leads
    there (e.g. 达成协议 / 未达成), so the page can say what each choice leads to.
    """
    key = tuple(sorted((name, text) for name, text in files.items() if name.endswith(".bpmn")))
    return [dict(step) for step in _next_steps(key, process_id, bpmn_id)]


@lru_cache(maxsize=512)
def _next_steps(files: tuple, process_id: str, bpmn_id: str) -> tuple:
    container = _container_of(files, process_id, bpmn_id)
    if container is None:
        return ()
    flows: dict[str, list] = {}
    for flow in container.iter(f"{BPMN}sequenceFlow"):
        flows.setdefault(flow.get("sourceRef"), []).append(flow)
    nodes = {el.get("id"): el for el in container.iter()
             if isinstance(el.tag, str) and el.get("id")}
    out: list[tuple] = []
    seen: set[str] = set()
    todo = [(f, f.get("name") or "") for f in flows.get(bpmn_id, [])]
    while todo:
        flow, label = todo.pop(0)
        target = nodes.get(flow.get("targetRef"))
        if target is None or target.get("id") in seen:
            continue
        seen.add(target.get("id"))
        local = etree.QName(target).localname
        if local in PASS_THROUGH:
            todo.extend((f, f.get("name") or label) for f in flows.get(target.get("id"), []))
        elif local in NAMED:
            out.append((("name", target.get("name") or target.get("id")), ("type", local),
                        ("condition", label or None)))
    return tuple(out)


def _container_of(files: tuple, process_id: str, bpmn_id: str):
    for name, text in files:
        root = safe_fromstring(text.encode("utf-8") if isinstance(text, str) else text, name)
        for process in root.iter(f"{BPMN}process"):
            if process.get("id") != process_id:
                continue
            for el in process.iter():
                if isinstance(el.tag, str) and el.get("id") == bpmn_id:
                    return el.getparent()
    return None


def boundary_timers(files: dict[str, str], process_id: str, bpmn_id: str) -> list[dict]:
    """Timer boundary events attached to a task: ``{"name", "interrupting"}`` (for deadlines)."""
    key = tuple(sorted((name, text) for name, text in files.items() if name.endswith(".bpmn")))
    return [dict(t) for t in _boundary_timers(key, process_id, bpmn_id)]


@lru_cache(maxsize=1024)
def _boundary_timers(files: tuple, process_id: str, bpmn_id: str) -> tuple:
    container = _container_of(files, process_id, bpmn_id)
    if container is None:
        return ()
    out = []
    for event in container.iter(f"{BPMN}boundaryEvent"):
        if event.get("attachedToRef") != bpmn_id:
            continue
        if event.find(f"{BPMN}timerEventDefinition") is None:
            continue
        out.append((("name", event.get("name") or event.get("id")),
                    ("interrupting", event.get("cancelActivity", "true") != "false")))
    return tuple(out)
