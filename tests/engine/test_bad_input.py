"""Hostile and broken BPMN is refused with file, element id and reason; task data never executes."""

from __future__ import annotations

import pytest

from engine.deadlines import check_spec
from engine.errors import BpmnValidationError
from engine.instance import WorkflowInstance
from engine.specs import compile_bundle

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n')
DEFS = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" '
        'targetNamespace="http://jiefen.example/bpmn">')


def process(body: str, doctype: str = "") -> bytes:
    return (HEAD + doctype + DEFS + '<bpmn:process id="p" isExecutable="true">'
            '<bpmn:startEvent id="start"/>' + body + "</bpmn:process></bpmn:definitions>").encode()


def refused(data: bytes, name: str = "bad.bpmn") -> list:
    with pytest.raises(BpmnValidationError) as info:
        compile_bundle({name: data}, check_spec=check_spec)
    return info.value.problems


def test_doctype_with_external_entity_is_refused():
    doctype = '<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    problems = refused(process('<bpmn:endEvent id="end"><bpmn:documentation>&xxe;'
                               '</bpmn:documentation></bpmn:endEvent>', doctype))
    assert problems[0].file == "bad.bpmn"
    assert "DOCTYPE" in problems[0].message


def test_entity_bomb_is_refused_quickly():
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE d [<!ENTITY l0 "lol">{lol}]>'
    problems = refused(process('<bpmn:endEvent id="end"><bpmn:documentation>&l9;'
                               '</bpmn:documentation></bpmn:endEvent>', doctype))
    assert "DOCTYPE" in problems[0].message


def test_script_task_is_refused_with_its_id():
    problems = refused(process('<bpmn:scriptTask id="escalate_review"><bpmn:script>x = 1'
                               '</bpmn:script></bpmn:scriptTask>'))
    assert problems[0].element_id == "escalate_review"
    assert "scripts are not allowed" in problems[0].message


def test_code_in_a_condition_is_refused_with_the_flow_id():
    body = ('<bpmn:exclusiveGateway id="gw" default="f_ok"/>'
            '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
            '<bpmn:sequenceFlow id="f_evil" sourceRef="gw" targetRef="end">'
            "<bpmn:conditionExpression>__import__('os').system('id') == 0</bpmn:conditionExpression>"
            '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f_ok" sourceRef="gw" targetRef="end"/>'
            '<bpmn:endEvent id="end"/>')
    problems = refused(process(body))
    assert [p.element_id for p in problems] == ["f_evil"]
    assert "allowed functions" in problems[0].message


@pytest.mark.parametrize("timer", ["P2H", "'P2H'", "PT0H", "every day"])
def test_invalid_timer_is_refused_with_the_event_id(timer):
    body = ('<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="wait"/>'
            '<bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition id="t">'
            f'<bpmn:timeDuration>{timer}</bpmn:timeDuration></bpmn:timerEventDefinition>'
            '</bpmn:intermediateCatchEvent><bpmn:sequenceFlow id="f1" sourceRef="wait" '
            'targetRef="end"/><bpmn:endEvent id="end"/>')
    problems = refused(process(body))
    assert problems[0].element_id == "wait"


def test_upload_of_50_mb_is_refused_before_parsing():
    big = process("<bpmn:endEvent id='end'/>") + b"<!--" + b"x" * (50 * 1024 * 1024) + b"-->"
    problems = refused(big)
    assert "larger than" in problems[0].message


def test_server_path_as_file_name_is_refused():
    problems = refused(process('<bpmn:endEvent id="end"/>'), name="../../etc/passwd.bpmn")
    assert "plain name" in problems[0].message


def test_task_data_that_looks_like_python_never_executes(tmp_path, script_engine, engine_clock):
    marker = tmp_path / "pwned"
    body = ('<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="gw"/>'
            '<bpmn:exclusiveGateway id="gw" default="f_no"/>'
            '<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="yes">'
            "<bpmn:conditionExpression>note == 'x'</bpmn:conditionExpression></bpmn:sequenceFlow>"
            '<bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="no"/>'
            '<bpmn:endEvent id="yes"/><bpmn:endEvent id="no"/>')
    bundle = compile_bundle({"p.bpmn": process(body)}, check_spec=check_spec)
    payload = f"__import__('os').system('touch {marker}')"
    instance = WorkflowInstance.start(bundle, "p", script_engine=script_engine,
                                      data={"note": payload, "__builtins__": payload})
    assert instance.is_completed()
    assert instance.data["note"] == payload           # kept as text, compared as text
    assert not marker.exists()


def test_an_instance_cannot_be_created_with_the_eval_engine():
    from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

    from tests.conftest import fixture_bytes

    bundle = compile_bundle(fixture_bytes("simple.bpmn"))
    for engine in (None, PythonScriptEngine()):
        with pytest.raises(TypeError, match="JiefenScriptEngine"):
            WorkflowInstance.create(bundle, "simple", script_engine=engine)
