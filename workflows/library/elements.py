"""What the kinds of BPMN element are called, in one table.

``ELEMENT_WORDS`` is keyed by the BPMN element names (engine/diff.ELEMENT_KINDS). Its Chinese words
are the ones the audit history writes itself (Chinese only) and the msgids of the pages' label
table ``element_kind`` (web/labels.py), which translates them: web/translations/update.py extracts
this file too (``N_`` marks the words), so the English catalogue keeps them.

``TASK_ELEMENTS`` maps the SpiffWorkflow task spec classes an engine step records (its ``type``)
onto those element names. The engine's own bookkeeping specs (the process's start task, the joins
and splits around boundary and start events) stand for no element and are not listed.
"""

from __future__ import annotations


def N_(text: str) -> str:  # gettext's no-op marker: the name pybabel looks for
    """Mark words for translation on the pages; returns them unchanged."""
    return text


ELEMENT_WORDS = {
    "process": N_("流程"), "startEvent": N_("开始事件"), "endEvent": N_("结束事件"),
    "userTask": N_("用户任务"), "serviceTask": N_("服务任务"), "task": N_("任务"),
    "manualTask": N_("人工任务"), "businessRuleTask": N_("决策任务"), "sendTask": N_("发送任务"),
    "receiveTask": N_("接收任务"), "callActivity": N_("调用子流程"), "subProcess": N_("子流程"),
    "exclusiveGateway": N_("排他网关"), "parallelGateway": N_("并行网关"),
    "inclusiveGateway": N_("包容网关"), "eventBasedGateway": N_("事件网关"),
    "boundaryEvent": N_("边界事件"), "intermediateCatchEvent": N_("中间捕获事件"),
    "intermediateThrowEvent": N_("中间抛出事件"), "sequenceFlow": N_("连线"), "lane": N_("泳道"),
    "laneSet": N_("泳道组"), "participant": N_("参与者（池）"), "collaboration": N_("协作"),
    "message": N_("消息"), "error": N_("错误"), "escalation": N_("升级"), "signal": N_("信号"),
    "dataObject": N_("数据对象"), "dataObjectReference": N_("数据对象引用"),
    "textAnnotation": N_("注释"), "association": N_("关联"), "decision": N_("决策"),
    "decisionTable": N_("决策表"), "input": N_("输入列"), "output": N_("输出列"),
    "rule": N_("规则"), "definitions": N_("定义"),
}
# SpiffWorkflow task spec class -> the BPMN element it runs (script tasks are refused at deployment;
# a transaction, an event or ad hoc subprocess is a subprocess to the reader)
TASK_ELEMENTS = {
    "StartEvent": "startEvent", "EndEvent": "endEvent", "BoundaryEvent": "boundaryEvent",
    "IntermediateCatchEvent": "intermediateCatchEvent",
    "IntermediateThrowEvent": "intermediateThrowEvent",
    "ExclusiveGateway": "exclusiveGateway", "ParallelGateway": "parallelGateway",
    "InclusiveGateway": "inclusiveGateway", "EventBasedGateway": "eventBasedGateway",
    "UserTask": "userTask", "ManualTask": "manualTask", "ServiceTask": "serviceTask",
    "BusinessRuleTask": "businessRuleTask", "SendTask": "sendTask", "ReceiveTask": "receiveTask",
    "NoneTask": "task", "CallActivity": "callActivity", "SubWorkflowTask": "subProcess",
    "TransactionSubprocess": "subProcess", "EventSubprocess": "subProcess",
    "AdHocSubprocess": "subProcess",
}


def task_words(task_type: str | None) -> str | None:
    """The words of the element a task spec class runs; None for the engine's bookkeeping."""
    element = TASK_ELEMENTS.get(task_type or "")
    return ELEMENT_WORDS[element] if element else None
