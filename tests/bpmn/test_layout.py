"""engine.bpmn_layout.add_layout: DI for a process without any, lanes as bands, boundary events on hosts."""

from __future__ import annotations

from engine.bpmn_layout import add_layout
from engine.specs import compile_bundle
from engine.xmlsafe import safe_fromstring

B = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"

BARE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="tiny" name="tiny" isExecutable="true">
    <bpmn:laneSet id="ls">
      <bpmn:lane id="lane_a" name="\xe5\x8f\x97\xe7\x90\x86\xe5\x91\x98"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>work</bpmn:flowNodeRef><bpmn:flowNodeRef>late</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_b" name="\xe5\xb9\xb3\xe5\x8f\xb0"><bpmn:flowNodeRef>gw</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>done</bpmn:flowNodeRef><bpmn:flowNodeRef>timed_out</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="work"/>
    <bpmn:boundaryEvent id="late" attachedToRef="work">
      <bpmn:documentation>T-01</bpmn:documentation>
      <bpmn:timerEventDefinition id="late_def"><bpmn:timeDuration>PT2H</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:exclusiveGateway id="gw" default="f_done"/>
    <bpmn:endEvent id="done"/>
    <bpmn:endEvent id="timed_out"/>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f_gw" sourceRef="work" targetRef="gw"/>
    <bpmn:sequenceFlow id="f_done" sourceRef="gw" targetRef="done"/>
    <bpmn:sequenceFlow id="f_again" sourceRef="gw" targetRef="work">
      <bpmn:conditionExpression>again == True</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_late" sourceRef="late" targetRef="timed_out"/>
  </bpmn:process>
</bpmn:definitions>
"""


def bounds(root, element_id):
    shape = next(s for s in root.iter(f"{{{DI}}}BPMNShape") if s.get("bpmnElement") == element_id)
    b = shape.find(f"{{{DC}}}Bounds")
    return tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))


def test_layout_draws_every_element_in_its_lane_and_keeps_the_process_deployable():
    out = add_layout(BARE, "tiny.bpmn")
    root = safe_fromstring(out, "tiny.bpmn")
    shapes = {s.get("bpmnElement") for s in root.iter(f"{{{DI}}}BPMNShape")}
    assert {"start", "work", "late", "gw", "done", "timed_out", "lane_a", "lane_b",
            "participant_tiny"} <= shapes
    assert {e.get("bpmnElement") for e in root.iter(f"{{{DI}}}BPMNEdge")} == {
        "f_start", "f_gw", "f_done", "f_again", "f_late"}
    for node, lane in (("work", "lane_a"), ("gw", "lane_b"), ("done", "lane_b")):
        x, y, w, h = bounds(root, node)
        lx, ly, lw, lh = bounds(root, lane)
        assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh
    wx, wy, ww, wh = bounds(root, "work")
    bx, by, bw, bh = bounds(root, "late")
    assert by + bh / 2 == wy + wh and wx <= bx + bw / 2 <= wx + ww, "boundary event sits on the bottom edge"
    assert bounds(root, "gw")[0] > wx and bounds(root, "done")[0] > bounds(root, "gw")[0], "left to right"
    compile_bundle({"tiny.bpmn": out})


def test_layout_leaves_a_drawn_process_alone():
    once = add_layout(BARE, "tiny.bpmn")
    assert add_layout(once, "tiny.bpmn") == once
