"""Static checks of the shipped library: deployability, lanes, forms, timer bases, diagrams, catalogue."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from engine.bpmn_parser import read_form
from engine.xmlsafe import safe_fromstring
from tests.bpmn.helpers import BPMN_DIR, library
from workflows.cases import field_limits
from workflows.library import contract
from workflows.library.graph import next_steps
from workflows.people.departments import UNIT_KINDS

B = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
ROLES = {"受理员", "分流研判员", "调解员", "承办人", "督办员", "领导"}
NOTIFY_TO = {"applicant", "lead_department", "responsible_department", "mediator", "supervisor", "leader",
             "triage_officer"}
FLOW_NODES = ("startEvent", "endEvent", "intermediateCatchEvent", "boundaryEvent", "userTask", "serviceTask",
              "businessRuleTask", "callActivity", "subProcess", "exclusiveGateway", "parallelGateway",
              "inclusiveGateway")
FILES = sorted(p.name for p in BPMN_DIR.glob("*.bpmn"))
README = (BPMN_DIR / "README.md").read_text(encoding="utf-8")


def tree(name: str) -> etree._Element:
    return safe_fromstring((BPMN_DIR / name).read_bytes(), name)


def q(tag: str) -> str:
    return f"{{{B}}}{tag}"


def lanes_of(root) -> dict[str, str]:
    """Element id -> lane name; an embedded sub-process's elements sit in its lane."""
    lanes = {ref.text: lane.get("name") for lane in root.iter(q("lane")) for ref in lane.iter(q("flowNodeRef"))}
    for sub in root.iter(q("subProcess")):
        if sub.get("id") in lanes:
            for el in sub.iter():
                if el.get("id") and el.get("id") not in lanes:
                    lanes[el.get("id")] = lanes[sub.get("id")]
    return lanes


def test_bundle_deploys_without_problems_or_warnings():
    bundle = library()
    assert sorted(bundle.top_process_ids) == ["general_dispute", "petition_intake"]
    assert sorted(bundle.process_ids) == sorted(f[:-5] for f in FILES)
    assert sorted(bundle.decision_ids) == ["escalation_step", "reopen_case", "route_case"]
    assert bundle.warnings == []


@pytest.mark.parametrize("name", FILES)
def test_tasks_sit_in_role_lanes_with_forms_and_instructions(name):
    root = tree(name)
    lanes = lanes_of(root)
    for task in root.iter(q("userTask")):
        assert lanes.get(task.get("id")) in ROLES, task.get("id")
        assert task.findall(f".//{{{CAMUNDA}}}formField"), f"{task.get('id')} has no form"
        text = task.findtext(f".//{{{SPIFF}}}instructionsForEndUser") or ""
        assert text.startswith("## ") and re.search(r"[\u4e00-\u9fff]", text), task.get("id")
    for task in root.iter(q("serviceTask"), q("businessRuleTask")):
        assert lanes.get(task.get("id")) == "平台", task.get("id")


# what process owners write for each other (timer ids, sources still to check): documentation only
AUTHORING = re.compile(r"\b[A-Z]-\d\d|\*verify\*|\[proposal\]|\bTODO\b", re.IGNORECASE)


@pytest.mark.parametrize("name", FILES)
def test_instructions_for_users_carry_no_timer_ids_or_authoring_markers(name):
    found = [(el.getparent().getparent().get("id"), m.group(0))
             for el in tree(name).iter(f"{{{SPIFF}}}instructionsForEndUser")
             for m in AUTHORING.finditer(el.text or "")]
    assert found == []


@pytest.mark.parametrize("name", FILES)
def test_every_timer_documents_its_basis(name):
    for definition in tree(name).iter(q("timerEventDefinition")):
        event = definition.getparent()
        doc = event.findtext(q("documentation")) or ""
        assert re.search(r"T-\d\d", doc), f"{event.get('id')}: no T-id in its documentation"


@pytest.mark.parametrize("name", FILES)
def test_only_registered_operations_with_known_recipients(name):
    for op in tree(name).iter(f"{{{SPIFF}}}serviceTaskOperator"):
        assert op.get("id") in ("notify", "raise_risk", "response_due", "supervise")
        params = {p.get("id"): p.get("value") for p in op.iter(f"{{{SPIFF}}}parameter")}
        if op.get("id") == "notify":
            assert params["to"].strip("'") in NOTIFY_TO
            assert f"`{params['template'].strip(chr(39))}`" in README


@pytest.mark.parametrize("name", FILES)
def test_every_element_has_diagram_interchange(name):
    root = tree(name)
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{DI}}}BPMNShape")}
    edges = {e.get("bpmnElement") for e in root.iter(f"{{{DI}}}BPMNEdge")}
    nodes = {el.get("id") for tag in FLOW_NODES for el in root.iter(q(tag))}
    assert nodes - shapes == set()
    assert {f.get("id") for f in root.iter(q("sequenceFlow"))} - edges == set()
    assert {lane.get("id") for lane in root.iter(q("lane"))} - shapes == set()
    assert {p.get("id") for p in root.iter(q("participant"))} - shapes == set()
    for subprocess in root.iter(q("subProcess")):
        planes = {p.get("bpmnElement") for p in root.iter(f"{{{DI}}}BPMNPlane")}
        assert subprocess.get("id") in planes, "collapsed sub-process needs its drill-down plane"


@pytest.mark.parametrize("name", FILES)
def test_ids_are_snake_case(name):
    root = tree(name)
    for tag in (*FLOW_NODES, "sequenceFlow", "process"):
        for el in root.iter(q(tag)):
            assert re.fullmatch(r"[a-z][a-z0-9_]*", el.get("id")), el.get("id")
    for field in root.iter(f"{{{CAMUNDA}}}formField"):
        assert re.fullmatch(r"[a-z][a-z0-9_]*", field.get("id"))


@pytest.mark.parametrize("name", FILES)
def test_readme_catalogues_every_task_timer_and_message(name):
    root = tree(name)
    assert f"`{root.find(q('process')).get('id')}`" in README
    ids = [el.get("id") for tag in ("userTask", "boundaryEvent", "serviceTask", "callActivity")
           for el in root.iter(q(tag))]
    ids += [el.get("id") for el in root.iter(q("intermediateCatchEvent"))
            if el.find(q("timerEventDefinition")) is not None]
    missing = [i for i in ids if f"`{i}`" not in README]
    assert missing == []
    for message in root.iter(q("message")):
        assert f"| `{message.get('name')}` |" in README


def test_readme_department_table_is_the_form_option_list():
    rows = dict(re.findall(r"^\| `([A-Z]{2,4})` \| ([^|]+?) \|", README, re.MULTILINE))
    options = {}
    for name in FILES:
        for field in tree(name).iter(f"{{{CAMUNDA}}}formField"):
            if field.get("id") in ("department", "dept"):
                options.update({v.get("id"): v.get("name") for v in field.iter(f"{{{CAMUNDA}}}value")})
    options.pop("none", None)
    assert rows == options
    routed = set(re.findall(r"'([A-Z]{2,4})'", (BPMN_DIR / "routing.dmn").read_text(encoding="utf-8")))
    assert routed <= set(rows)


def test_what_follows_registration_says_which_question_its_answers_answer():
    """The task page's 提交后 panel: "有 → 确认重复件" alone does not say 有 what."""
    files = {p.name: p.read_text(encoding="utf-8") for p in BPMN_DIR.glob("*.bpmn")}
    steps = {s["id"]: s for s in next_steps(files, "general_dispute", "register")}
    assert (steps["confirm_duplicate"]["question"], steps["confirm_duplicate"]["when"]) == (
        "有疑似重复？", "有")
    assert (steps["emergency_transfer"]["question"], steps["emergency_transfer"]["when"]) == (
        "甄别", "紧急")


def test_a_corrected_case_field_allows_what_the_case_holds():
    """A form field that corrects a case field (登记核对's summary) allows the case column's
    length: a longer text would pass the form only for the step to refuse it."""
    found = {(node.get("id"), f["id"]): int(f["validation"].get("maxlength") or 0)
             for name in FILES for node in tree(name).iter(q("userTask")) for f in read_form(node)
             if f["id"] in contract.CORRECTED_CASE_FIELDS.get(node.get("id"), ())}
    assert found == {(task, name): field_limits.MAX_LENGTH[name]
                     for task, names in contract.CORRECTED_CASE_FIELDS.items() for name in names}


# what a user reads of a process: the names of its steps and flows (task lists, timelines, the
# diagram), form labels and option names, and task instructions (Jinja left out: it names data)
READ_BY_USERS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
# outcome codes (R1–R5), escalation levels (L0–L3), KPI ids (K-01) and the routing table's
# unit kinds (ZJ, FY …): each has its words (web/labels.py), none may reach a user
CODES = re.compile(r"(?<![A-Za-z0-9_-])(R[1-5]|L[0-3]|K-\d\d|"
                   + "|".join(sorted(UNIT_KINDS, key=len, reverse=True)) + r")(?![A-Za-z0-9_])")


def user_texts(root) -> list[tuple[str, str]]:
    """(element id, text) of every text of a process file a user reads."""
    found = []
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        if local in ("task", "userTask", "serviceTask", "callActivity", "subProcess", "startEvent",
                     "endEvent", "boundaryEvent", "intermediateCatchEvent", "sequenceFlow",
                     "exclusiveGateway", "parallelGateway", "businessRuleTask", "lane", "value",
                     "manualTask") and el.get("name"):
            found.append((el.get("id") or local, el.get("name")))
        if local == "formField" and el.get("label"):
            found.append((el.get("id"), el.get("label")))
        if local == "instructionsForEndUser" and el.text:
            found.append((el.getparent().getparent().get("id"), READ_BY_USERS.sub("", el.text)))
    return found


@pytest.mark.parametrize("name", FILES)
def test_no_code_reaches_a_user_in_names_labels_options_or_instructions(name):
    """调解不成，告知法律途径 rather than R5, 督办单 rather than L1: the outcome and ladder words a
    user knows, never the codes behind them."""
    leaks = [(element, CODES.search(text).group(0), text[:60])
             for element, text in user_texts(tree(name)) if CODES.search(text)]
    assert leaks == []
