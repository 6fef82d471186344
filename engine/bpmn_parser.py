"""JiefenParser: SpiffBpmnParser fed only by the hardened XML parser; forms read, scripts refused,
timers normalized so one deadline calculator computes every due time."""

from __future__ import annotations

import copy
import re
from datetime import datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import UserTaskParser
from SpiffWorkflow.spiff.specs.defaults import UserTask

from engine.xmlsafe import safe_fromstring

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
FLOWABLE_NS = "http://flowable.org/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
ASSIGNMENT_KEYS = ("candidateGroups", "candidateUsers", "assignee")
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "spiffworkflow": SPIFF_NS}

ISO_DURATION = re.compile(
    r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
ISO_CYCLE = re.compile(r"^R\d*/[^\s/]+(/[^\s/]+)?$")
CALENDAR_FORM = re.compile(r"^(working_days|statutory_days|statutory_months)\(\s*\d{1,3}\s*\)$")
LOOKS_LIKE_DURATION = re.compile(r"^P(T)?\d")
IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# "statutory_days(30) from agreement_date": the period counts from a date in task data
FROM_DATE = re.compile(r"^(?P<spec>\S+)\s+from\s+(?P<name>[A-Za-z][A-Za-z0-9_]*)$")
NORMAL_FROM = re.compile(r"^due_from\((?P<spec>'[^']*'|[A-Za-z][A-Za-z0-9_]*), '(?P<name>[A-Za-z][A-Za-z0-9_]*)'\)$")
TIMER_TAGS = ("timeDuration", "timeDate", "timeCycle")
WIRED = "jiefen_loops_wired"   # set on a spec once wire_loop_merges has run


def read_form(node: etree._Element) -> list[dict]:
    """camunda:formData fields of a user task as plain JSON-able dicts."""
    fields = []
    path = "./bpmn:extensionElements/camunda:formData/camunda:formField"
    for field in node.xpath(path, namespaces=NS):
        fields.append({
            "id": field.get("id"), "type": field.get("type") or "string",
            "label": field.get("label") or field.get("id"), "default": field.get("defaultValue"),
            "options": [[v.get("id"), v.get("name") or v.get("id")]
                        for v in field.findall(f"{{{CAMUNDA_NS}}}value")],
            "validation": {c.get("name"): c.get("config")
                           for c in field.iter(f"{{{CAMUNDA_NS}}}constraint")},
        })
    return fields


def read_assignment(node: etree._Element) -> dict[str, str]:
    """Who a user task is drawn for, as the modeler wrote it: ``camunda:`` / ``flowable:``
    attributes or a Zeebe ``assignmentDefinition`` (candidateGroups, candidateUsers, assignee).
    The text is kept as written; workflows resolves it against roles and units."""
    found: dict[str, str] = {}
    for namespace in (CAMUNDA_NS, FLOWABLE_NS):
        for key in ASSIGNMENT_KEYS:
            value = (node.get(f"{{{namespace}}}{key}") or "").strip()
            if value:
                found.setdefault(key, value)
    for definition in node.iterfind(f"./{{{BPMN_NS}}}extensionElements/"
                                    f"{{{ZEEBE_NS}}}assignmentDefinition"):
        for key in ASSIGNMENT_KEYS:
            value = (definition.get(key) or "").strip()
            if value:
                found.setdefault(key, value)
    return found


class FormUserTaskParser(UserTaskParser):
    """Reads camunda:formData into task_spec.extensions['form'] (serialized with the spec)."""

    def parse_extensions(self, node=None):
        extensions = super().parse_extensions(node)
        if node is None or node is self.node:
            fields = read_form(self.node)
            if fields:
                extensions["form"] = fields
            assignment = read_assignment(self.node)
            if assignment:
                extensions["assignment"] = assignment
            documentation = self.node.find(f"{{{BPMN_NS}}}documentation")
            if "instructionsForEndUser" not in extensions and documentation is not None:
                extensions["instructionsForEndUser"] = documentation.text
        return extensions


class JiefenParser(SpiffBpmnParser):
    """The one BPMN/DMN parser; feed it bytes through add_bpmn_bytes/add_dmn_bytes only."""

    OVERRIDE_PARSER_CLASSES = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("userTask"): (FormUserTaskParser, UserTask)}

    def __init__(self, validate_schema: bool = True):
        super().__init__(validator=VALIDATOR if validate_schema else None)

    def add_bpmn_bytes(self, data: bytes, filename: str) -> etree._Element:
        """Parse, refuse scripts, normalize timers, register; returns the normalized tree."""
        root = safe_fromstring(data, filename)
        reject_scripts(root, filename)
        normalize_timers(root, filename)
        # the validator rewrites some tags in place: keep what we stored
        normalized = copy.deepcopy(root)
        self.add_bpmn_xml(root, filename)
        return normalized

    def add_dmn_bytes(self, data: bytes, filename: str) -> etree._Element:
        root = safe_fromstring(data, filename)
        self.add_dmn_xml(root, filename)
        return root

    def get_spec(self, process_id, required=True):
        """The parsed process, its multi-instance activities wired (``wire_loop_merges``)."""
        spec = super().get_spec(process_id, required=required)
        if spec is not None:
            wire_loop_merges(spec)
        return spec


def wire_loop_merges(spec: BpmnProcessSpec) -> None:
    """Connect each loop / multi-instance activity to the completion of its inner task spec.

    A multi-instance activity takes an instance's result (``merge_child``: the output item into
    the output collection) and completes once all are in through a callback on the inner spec's
    ``completed_event``. SpiffWorkflow connects it only while creating instances, and again when
    it deserializes a spec; jiefen compiles specs from BPMN and stores states without them, so a
    process whose specs had not created instances yet (after a restart, in another worker, after
    the spec cache dropped the version) completed the instances without merging them: the
    activity never completed (a joint dispatch stopped with no open task and no timer). Wired
    once, here, whichever process compiled the spec. Idempotent."""
    if getattr(spec, WIRED, False):
        return
    for task_spec in list(spec.task_specs.values()):
        if isinstance(task_spec, LoopTask):
            inner = spec.task_specs.get(task_spec.task_spec)
            if inner is not None and not inner.completed_event.is_connected(task_spec.merge_child):
                inner.completed_event.connect(task_spec.merge_child)
    setattr(spec, WIRED, True)


def reject_scripts(root: etree._Element, filename: str) -> None:
    """scriptTask and pre/post scripts are refused: BPMN text never reaches Python."""
    query = ".//bpmn:scriptTask | .//spiffworkflow:preScript | .//spiffworkflow:postScript"
    for node in root.xpath(query, namespaces=NS):
        element = node if node.tag == f"{{{BPMN_NS}}}scriptTask" else node.getparent().getparent()
        raise ValidationException("scripts are not allowed", node=element, file_name=filename)


def normalize_timers(root: etree._Element, filename: str) -> None:
    """'PT2H' -> due_at('PT2H'); working_days(2) -> due_at('working_days(2)'); v -> due_at(v);
    'statutory_days(30) from agreement_date' -> due_from('statutory_days(30)', 'agreement_date')."""
    for el in root.iter(*(f"{{{BPMN_NS}}}{kind}" for kind in TIMER_TAGS)):
        event = el.getparent().getparent()
        text = _unquote((el.text or "").strip())
        if el.tag == f"{{{BPMN_NS}}}timeCycle":
            if not ISO_CYCLE.match(text):
                raise ValidationException(
                    f"timeCycle must be an ISO-8601 cycle such as R3/PT1H, not {text!r}",
                    node=event, file_name=filename)
            el.text = repr(text)
            continue
        el.text = _timer_expression(text, event, filename)
        el.tag = f"{{{BPMN_NS}}}timeDate"


def _timer_expression(text: str, event: etree._Element, filename: str) -> str:
    if NORMAL_FROM.match(text):  # already normalized (engine files parsed again)
        return text
    typed = FROM_DATE.match(text)
    if typed is None:
        return f"due_at({_timer_argument(text, event, filename)})"
    spec = _timer_argument(_unquote(typed.group("spec")), event, filename)
    return f"due_from({spec}, {typed.group('name')!r})"


def _timer_argument(text: str, event: etree._Element, filename: str) -> str:
    if text.startswith("due_at(") and text.endswith(")"):
        text = _unquote(text[len("due_at("):-1].strip())
    if ISO_DURATION.match(text) or CALENDAR_FORM.match(text) or _aware_datetime(text):
        return repr(text)
    if IDENTIFIER.match(text) and not LOOKS_LIKE_DURATION.match(text):
        return text
    raise ValidationException(
        f"timer {text!r} is not an ISO-8601 duration (PT2H, P15D), an offset-aware date-time, "
        "working_days(n), statutory_days(n), statutory_months(n) or a variable name, "
        "optionally followed by 'from <date field>'",
        node=event, file_name=filename)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _aware_datetime(text: str) -> bool:
    try:
        return datetime.fromisoformat(text).tzinfo is not None
    except ValueError:
        return False
