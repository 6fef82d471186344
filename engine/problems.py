"""Put validation problems on the diagram: find the element a bundle-level problem is about.

``compile_bundle`` names the element for most problems; a few come from the library or from
bundle-wide checks with only a process or decision name in the message (a call activity whose
process is missing, a business rule task whose decision is missing). The editor needs an element
id to draw a marker, so these are located here by looking the name up in the files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from engine.bpmn_parser import BPMN_NS, SPIFF_NS
from engine.errors import BpmnValidationError, Problem
from engine.xmlsafe import safe_fromstring

CALLED = re.compile(r"(?:called process|The process) '([^']+)'")
DECISION = re.compile(r"(?:No DMN Diagram available with id|decision) '?([A-Za-z_][\w.-]*)'?")


def locate(problems: Iterable[Problem], files: Mapping[str, str | bytes]) -> list[Problem]:
    """Problems with element ids filled in where the message names a missing target; duplicates
    (the same element and reason reported twice) are dropped."""
    index = _References(files)
    out: list[Problem] = []
    seen: set[tuple] = set()
    for problem in problems:
        located = index.locate(problem)
        for item in located:
            key = (item.file, item.element_id, item.severity, _kind(item.message))
            if key not in seen:
                seen.add(key)
                out.append(item)
    return out


def _kind(message: str) -> str:
    match = CALLED.search(message)
    return f"called:{match.group(1)}" if match else message


class _References:
    """Call activities by called process, business rule tasks by decision id, per file."""

    def __init__(self, files: Mapping[str, str | bytes]):
        self.calls: dict[str, list[tuple[str, str]]] = {}
        self.decisions: dict[str, list[tuple[str, str]]] = {}
        self.processes: set[str] = set()
        for name, data in files.items():
            if not name.endswith(".bpmn"):
                continue
            try:
                root = safe_fromstring(data.encode("utf-8") if isinstance(data, str) else data,
                                       name)
            except BpmnValidationError:
                continue
            for el in root.iter(f"{{{BPMN_NS}}}callActivity"):
                self.calls.setdefault(el.get("calledElement") or "", []).append((name, el.get("id")))
            for ref in root.iter(f"{{{SPIFF_NS}}}calledDecisionId"):
                task = ref.getparent().getparent()
                self.decisions.setdefault((ref.text or "").strip(), []).append(
                    (name, task.get("id")))
            self.processes.update(p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process"))

    def locate(self, problem: Problem) -> list[Problem]:
        if problem.element_id is not None and problem.element_id not in self.processes:
            return [problem]  # already on its element
        called = CALLED.search(problem.message)
        if called and called.group(1) in self.calls:
            return [replace(problem, file=f, element_id=e) for f, e in self.calls[called.group(1)]]
        if "DMN" in problem.message or "decision" in problem.message.lower():
            decision = DECISION.search(problem.message)
            if decision and decision.group(1) in self.decisions:
                return [replace(problem, file=f, element_id=e)
                        for f, e in self.decisions[decision.group(1)]]
        return [problem]
