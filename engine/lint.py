"""Deploy-time checks of a bundle: every expression, timer, DMN cell, operation and form."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree

from engine.bpmn_parser import BPMN_NS, CAMUNDA_NS, ISO_CYCLE, SPIFF_NS, read_assignment, read_form
from engine.errors import ExpressionError, Problem
from engine.expressions import parse
from engine.forms import fields_of, form_problems
from engine.graph import reachability_problems
from engine.limits import DEFAULT_MAX_CARDINALITY

PERSONAL_FIELD = re.compile(
    r"(id_?number|id_?card|identity|phone|mobile|tel|address|addr|身份证|手机|电话|住址|地址|姓名)",
    re.IGNORECASE)
SPEC_CALL = re.compile(r"^due_(?:at|from)\('(?P<spec>[^']*)'(?:, '[A-Za-z][A-Za-z0-9_]*')?\)$")
_JINJA = SandboxedEnvironment(autoescape=True)


class Linter:
    """Collects problems for one file; ``check_spec`` validates literal deadline specs."""

    def __init__(self, filename: str, functions: frozenset[str], operations: frozenset[str] | None,
                 check_spec: Callable[[str], None] | None,
                 max_cardinality: int = DEFAULT_MAX_CARDINALITY):
        self.filename, self.functions = filename, functions
        self.operations, self.check_spec = operations, check_spec
        self.max_cardinality = max_cardinality
        self.problems: list[Problem] = []

    def add(self, element_id: str | None, message: str, severity: str = "error",
            code: str | None = None, **params: object) -> None:
        self.problems.append(Problem(self.filename, element_id, message, severity, code,
                                     tuple(params.items())))

    def expression(self, element_id: str | None, text: str | None, what: str) -> None:
        if text is None or not text.strip():
            self.add(element_id, f"empty {what}")
            return
        try:
            parse(text.strip(), self.functions)
        except ExpressionError as exc:
            self.add(element_id, f"{what} {text.strip()!r}: {exc}")


def lint_bpmn(root: etree._Element, filename: str, *, functions: frozenset[str],
              operations: frozenset[str] | None = None,
              check_spec: Callable[[str], None] | None = None,
              max_cardinality: int = DEFAULT_MAX_CARDINALITY) -> list[Problem]:
    """Problems of one normalized BPMN tree."""
    lint = Linter(filename, functions, operations, check_spec, max_cardinality)
    _conditions(lint, root)
    _timers(lint, root)
    _loops(lint, root)
    _service_tasks(lint, root)
    _messages(lint, root)
    _user_tasks(lint, root)
    for gateway in root.iter(f"{{{BPMN_NS}}}eventBasedGateway"):
        lint.add(gateway.get("id"), "event-based gateway: its timers are invisible to the due-time "
                                    "index; use boundary events instead", "warning")
    for process in root.iterfind(f"{{{BPMN_NS}}}process"):
        for element_id, message in reachability_problems(process):
            lint.add(element_id, message, "warning")
    return lint.problems


def _owner_id(element: etree._Element) -> str | None:
    """Id of the nearest flow element (event definitions are reported as their event)."""
    while element is not None:
        tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
        if element.get("id") and not tag.endswith("EventDefinition"):
            return element.get("id")
        element = element.getparent()
    return None


def _conditions(lint: Linter, root: etree._Element) -> None:
    for cond in root.iterfind(f".//{{{BPMN_NS}}}conditionExpression"):
        lint.expression(_owner_id(cond), cond.text, "condition")
    for cond in root.iterfind(f".//{{{BPMN_NS}}}conditionalEventDefinition/{{{BPMN_NS}}}condition"):
        lint.expression(_owner_id(cond), cond.text, "condition")


TYPED_START = re.compile(r"^due_from\(.*, '(?P<name>[A-Za-z][A-Za-z0-9_]*)'\)$")


def _timers(lint: Linter, root: etree._Element) -> None:
    dates = {f.get("id") for f in root.iter(f"{{{CAMUNDA_NS}}}formField") if f.get("type") == "date"}
    for el in root.iter(f"{{{BPMN_NS}}}timeDate", f"{{{BPMN_NS}}}timeCycle"):
        event_id = _owner_id(el)
        text = (el.text or "").strip()
        lint.expression(event_id, text, "timer")
        typed = TYPED_START.match(text)
        if typed and typed.group("name") not in dates:
            lint.add(event_id, f"timer counts from {typed.group('name')!r}, which no date form "
                               "field of this file sets (left empty, the timer counts from when "
                               "it is armed)", "warning")
        match = SPEC_CALL.match(text)
        if match and lint.check_spec is not None:
            try:
                lint.check_spec(match.group("spec"))
            except ValueError as exc:
                lint.add(event_id, f"timer {match.group('spec')!r}: {exc}")
        if el.tag == f"{{{BPMN_NS}}}timeCycle":
            _cycle(lint, event_id, text)


def _cycle(lint: Linter, event_id: str | None, text: str) -> None:
    cycle = text.strip("'\"")
    if not ISO_CYCLE.match(cycle):
        lint.add(event_id, f"timeCycle {cycle!r} is not an ISO-8601 cycle")
        return
    for part in cycle.split("/")[1:]:
        if part.startswith("P") and lint.check_spec is not None:
            try:
                lint.check_spec(part)
            except ValueError as exc:
                lint.add(event_id, f"timeCycle period {part!r}: {exc}")


def _loops(lint: Linter, root: etree._Element) -> None:
    for tag, what in (("loopCardinality", "loop cardinality"),
                      ("completionCondition", "completion condition"),
                      ("loopCondition", "loop condition"), ("loopMaximum", "loop maximum")):
        for el in root.iter(f"{{{BPMN_NS}}}{tag}"):
            lint.expression(_owner_id(el), el.text, what)
            if tag in ("loopCardinality", "loopMaximum"):
                _ceiling(lint, _owner_id(el), el.text)
    for el in root.iter(f"{{{BPMN_NS}}}loopDataInputRef", f"{{{BPMN_NS}}}loopDataOutputRef"):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", (el.text or "").strip()):
            lint.add(_owner_id(el), f"multi-instance collection {el.text!r} must be a data name")


def _ceiling(lint: Linter, element_id: str | None, text: str | None) -> None:
    """A literal count above the ceiling is refused here; an expression is checked when it runs."""
    literal = (text or "").strip().replace("_", "")
    if literal.isdigit() and int(literal) > lint.max_cardinality:
        lint.add(element_id, f"multi-instance or loop count {int(literal)} is above the limit "
                             f"of {lint.max_cardinality}", code="cardinality",
                 count=int(literal), limit=lint.max_cardinality)


def _service_tasks(lint: Linter, root: etree._Element) -> None:
    for op in root.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        owner = _owner_id(op.getparent())
        name = op.get("id")
        if lint.operations is not None and name not in lint.operations:
            lint.add(owner, f"unknown service operation {name!r}")
        for param in op.iter(f"{{{SPIFF_NS}}}parameter"):
            lint.expression(owner, param.get("value"), f"parameter {param.get('id')}")
    for task in root.iter(f"{{{BPMN_NS}}}serviceTask"):
        if task.find(f".//{{{SPIFF_NS}}}serviceTaskOperator") is None:
            lint.add(task.get("id"), "service task names no operation (spiffworkflow:serviceTaskOperator)")


def _messages(lint: Linter, root: etree._Element) -> None:
    for payload in root.iter(f"{{{SPIFF_NS}}}messagePayload"):
        lint.expression(_owner_id(payload), payload.text, "message payload")
    for prop in root.iter(f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression"):
        for expr in prop.iter(f"{{{BPMN_NS}}}formalExpression", f"{{{BPMN_NS}}}messagePath"):
            lint.expression(_owner_id(prop), expr.text, "correlation expression")
    receivers = {f"{{{BPMN_NS}}}{tag}" for tag in ("messageEventDefinition", "receiveTask")}
    for var in root.iter(f"{{{SPIFF_NS}}}messageVariable"):
        parent = var.getparent().getparent() if var.getparent() is not None else None
        if parent is None or parent.tag not in receivers:
            lint.add(_owner_id(var), "messageVariable must be inside bpmn:messageEventDefinition "
                                     "(elsewhere the payload is lost)")


def _user_tasks(lint: Linter, root: etree._Element) -> None:
    lanes = {ref.text for ref in root.iter(f"{{{BPMN_NS}}}flowNodeRef")}
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        task_id = task.get("id")
        for field_id, message in form_problems(fields_of(read_form(task))):
            lint.add(task_id, f"form field {field_id}: {message}")
        for field in task.iter(f"{{{CAMUNDA_NS}}}formField"):
            if PERSONAL_FIELD.search(field.get("id") or ""):
                lint.add(task_id, f"form field {field.get('id')}: personal data belongs in party "
                                  "records, not task data")
        _instructions(lint, task)
        if task_id not in lanes and not _in_laned_subprocess(task, lanes) \
                and not read_assignment(task):
            lint.add(task_id, "user task is in no lane (no role may act on it)", "warning")


def _in_laned_subprocess(task: etree._Element, lanes: set[str | None]) -> bool:
    """A task of an embedded sub-process takes the lane the sub-process sits in."""
    parent = task.getparent()
    while parent is not None and parent.tag == f"{{{BPMN_NS}}}subProcess":
        if parent.get("id") in lanes:
            return True
        parent = parent.getparent()
    return False


def _instructions(lint: Linter, task: etree._Element) -> None:
    for el in task.iter(f"{{{SPIFF_NS}}}instructionsForEndUser", f"{{{BPMN_NS}}}documentation"):
        try:
            _JINJA.parse(el.text or "")
        except TemplateSyntaxError as exc:
            lint.add(task.get("id"), f"instructions template: {exc.message}")


def lint_dmn(root: etree._Element, filename: str, *, functions: frozenset[str],
             check_spec: Callable[[str], None] | None = None) -> list[Problem]:
    """Problems of one DMN tree: every input expression, input entry and output entry."""
    lint = Linter(filename, functions, None, check_spec)
    ns = root.nsmap.get(None) or ""
    q = (lambda tag: f"{{{ns}}}{tag}") if ns else (lambda tag: tag)
    for table in root.iter(q("decisionTable")):
        inputs = [(_text(i, q("inputExpression"), q("text")), i.get("id"))
                  for i in table.iterfind(q("input"))]
        for expr, input_id in inputs:
            lint.expression(input_id, expr, "input expression")
        for rule in table.iterfind(q("rule")):
            _rule(lint, rule, q, [expr for expr, _ in inputs])
    return lint.problems


def _text(parent: etree._Element, *path: str) -> str | None:
    node = parent
    for tag in path:
        node = node.find(tag) if node is not None else None
    return node.text if node is not None else None


def _rule(lint: Linter, rule: etree._Element, q, inputs: list[str | None]) -> None:
    rule_id = rule.get("id")
    for entry, input_expr in zip(rule.iterfind(q("inputEntry")), inputs):
        text = (_text(entry, q("text")) or "").strip()
        if text in ("", "-"):
            continue
        lint.expression(entry.get("id") or rule_id, _dmn_condition(input_expr or "", text),
                        "input entry")
    for entry in rule.iterfind(q("outputEntry")):
        text = (_text(entry, q("text")) or "").strip()
        if text:
            lint.expression(entry.get("id") or rule_id, text, "output entry")
            _deadline_literal(lint, entry.get("id") or rule_id, text)


def _deadline_literal(lint: Linter, element_id: str | None, text: str) -> None:
    """A quoted output that looks like a deadline spec must be one (e.g. 'PT2H', 'working_days(2)')."""
    literal = text.strip("'\"")
    looks_like = re.match(r"^(P(T)?\d|R\d*/|working_days\(|statutory_)", literal)
    if lint.check_spec is None or text[:1] not in "'\"" or not looks_like or literal.startswith("R"):
        return
    try:
        lint.check_spec(literal)
    except ValueError as exc:
        lint.add(element_id, f"deadline {literal!r}: {exc}")


def _dmn_condition(input_expr: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMN engine builds from an input entry."""
    if "?" in entry:
        return re.sub(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)", "dmninputexpr", entry)
    try:
        ast.parse(entry)
        return f"({input_expr}) == ({entry})"
    except SyntaxError:
        return input_expr + entry  # concatenated without a space, exactly as the engine does


def by_severity(problems: Iterable[Problem], severity: str) -> list[Problem]:
    return [p for p in problems if p.severity == severity]
