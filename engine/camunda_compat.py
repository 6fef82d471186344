"""Files from other modelers (Camunda Modeler): the small rewrites that let them run on jiefen.

jiefen reads ``camunda:formData`` as it is. What Camunda expresses differently is rewritten on
upload and reported to the process owner, never silently: a business rule task's
``camunda:decisionRef`` becomes ``spiffworkflow:calledDecisionId`` (what the engine reads).
``camunda:candidateGroups`` / ``candidateUsers`` / ``assignee`` are read as they are (the parser
keeps them; workflows resolves them against roles and units). Everything else (JUEL ``${...}``
conditions, scripts) is left for the validation to report at its element, because guessing its
meaning would be unsafe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from engine.bpmn_parser import BPMN_NS, CAMUNDA_NS, SPIFF_NS
from engine.errors import BpmnValidationError
from engine.xmlsafe import safe_fromstring, tostring


@dataclass(frozen=True)
class Note:
    """One rewrite or hint, located like a validation problem."""

    file: str
    element_id: str | None
    message: str

    def as_dict(self) -> dict:
        return {"file": self.file, "element_id": self.element_id, "message": self.message,
                "severity": "info"}


def adapt(files: Mapping[str, bytes | str]) -> tuple[dict[str, bytes], list[Note]]:
    """Rewritten files (unchanged ones byte-for-byte) and what was done to them."""
    out: dict[str, bytes] = {}
    notes: list[Note] = []
    for name, data in files.items():
        raw = data.encode("utf-8") if isinstance(data, str) else data
        out[name] = raw
        if not name.endswith(".bpmn"):
            continue
        try:
            root = safe_fromstring(raw, name)
        except BpmnValidationError:
            continue  # the validation reports it
        found = _decision_refs(root, name)
        if any(n.message.startswith("已改写") for n in found):
            out[name] = tostring(root)
        notes.extend(found)
    return out, notes


def _decision_refs(root: etree._Element, filename: str) -> list[Note]:
    notes = []
    for task in root.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        ref = task.get(f"{{{CAMUNDA_NS}}}decisionRef")
        if not ref or task.find(f".//{{{SPIFF_NS}}}calledDecisionId") is not None:
            continue
        extensions = task.find(f"{{{BPMN_NS}}}extensionElements")
        if extensions is None:
            extensions = etree.Element(f"{{{BPMN_NS}}}extensionElements")
            task.insert(_after_documentation(task), extensions)
        called = etree.SubElement(extensions, f"{{{SPIFF_NS}}}calledDecisionId",
                                  nsmap={"spiffworkflow": SPIFF_NS})
        called.text = ref
        del task.attrib[f"{{{CAMUNDA_NS}}}decisionRef"]
        notes.append(Note(filename, task.get("id"),
                          f"已改写：camunda:decisionRef {ref!r} → spiffworkflow:calledDecisionId"))
        if task.get(f"{{{CAMUNDA_NS}}}resultVariable"):
            notes.append(Note(filename, task.get("id"), "camunda:resultVariable 不使用：决策表各输出"
                              "按输出名写入任务数据"))
    return notes


def _after_documentation(task: etree._Element) -> int:
    """extensionElements follows documentation (BPMN schema order)."""
    return 1 if len(task) and task[0].tag == f"{{{BPMN_NS}}}documentation" else 0
