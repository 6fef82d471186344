"""notify(): one notice per (case, step, template, recipient); a later step is never swallowed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.models import OutboxMessage
from engine.operations import operation_context
from tests.workflows import sched_support as S
from workflows.core.actors import SYSTEM
from workflows.library.operations import notify, raise_risk
from workflows.models import Case
from workflows.processes.deploy import deploy_bundle
from workflows.runtime.unit_of_work import OperationContext
from workflows.scheduler import timers

REMINDER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="defs_remind" targetNamespace="http://jiefen.local/test">
  <bpmn:process id="remind_often" name="催办" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="mediate"/>
    <bpmn:userTask id="mediate" name="调解"/>
    <bpmn:boundaryEvent id="reminder" attachedToRef="mediate" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:timeCycle>R3/PT20M</bpmn:timeCycle>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="reminder" targetRef="remind"/>
    <bpmn:serviceTask id="remind" name="催办">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify" resultVariable="notify_result">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="template" type="str" value="'handling_overdue'"/>
            <spiffworkflow:parameter id="to" type="str" value="'supervisor'"/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f3" sourceRef="remind" targetRef="reminded"/>
    <bpmn:endEvent id="reminded"/>
    <bpmn:sequenceFlow id="f4" sourceRef="mediate" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def case_id(services) -> int:
    S.deploy(services, "simple.bpmn")
    return S.start(services, "simple")[1]


def _messages(services, template: str) -> list[OutboxMessage]:
    with services.session_factory() as session:
        return list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == template).order_by(OutboxMessage.id)))


def test_reminders_twenty_minutes_apart_are_each_queued(services, clock):
    deploy_bundle(services.new_uow(), SYSTEM, {"remind.bpmn": REMINDER.encode()})
    S.start(services, "remind_often")
    for _ in range(3):
        clock.advance(minutes=21)
        timers.sweep(services)
    sent = _messages(services, "handling_overdue")
    assert [m.recipient_id for m in sent] == ["supervisor"] * 3
    assert len({m.dedupe_key for m in sent}) == 3


def test_second_risk_raise_within_the_hour_reaches_the_leader_with_its_colour(services, clock,
                                                                              case_id):
    for level, reason in (("orange", "情绪激动"), ("red", "扬言聚集")):
        with services.new_uow() as uow:
            case = uow.session.get(Case, case_id)
            data = {"case_no": case.case_no, "case_id": case.id, "risk_level": case.risk_level}
            raise_risk(OperationContext(uow, SYSTEM, case), data, level=level, reason=reason)
            uow.commit()
        clock.advance(minutes=20)
    to_leader = [m for m in _messages(services, "risk_raised") if m.recipient_id == "leader"]
    assert [(m.params["risk"], m.params["reason"]) for m in to_leader] == [
        ("橙色", "情绪激动"), ("红色", "扬言聚集")]


def test_the_same_step_queues_a_notice_once(services, case_id):
    with services.new_uow() as uow:
        case = uow.session.get(Case, case_id)
        context = OperationContext(uow, SYSTEM, case)
        data = {"case_no": case.case_no, "case_id": case.id}
        registry = services.operations
        registry.register("notify", notify)
        with operation_context(context):
            for step in ("step-a", "step-a", "step-b"):
                registry.call("notify", data, {"template": "upgrade_notice", "to": "leader"},
                              step=step)
        uow.commit()
    assert len(_messages(services, "upgrade_notice")) == 2


def test_without_an_engine_step_the_step_instant_keys_the_notice(services, clock, case_id):
    for _ in range(2):
        with services.new_uow() as uow:
            case = uow.session.get(Case, case_id)
            notify(OperationContext(uow, SYSTEM, case), {"case_no": case.case_no},
                   template="upgrade_notice", to="leader")
            uow.commit()
        clock.advance(minutes=5)
    assert len(_messages(services, "upgrade_notice")) == 2
