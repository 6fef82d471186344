"""SLA clocks started and stopped by the case projection (docs/scheduler.md, "Which limits are
SLA clocks").

A supervision clock runs while its step runs, unless the process version times that step itself:
then the BPMN timer is the one deadline (shown on the case page from the instance) and no clock
is started, so a limit never climbs the escalation ladder twice.

* ``response`` (T-01): while the lead's sign-off task is ready; ``response_deadline``, the first
  time counted from the received time (``opened_at``); timed by the process when the task has an
  armed boundary timer;
* ``first_contact`` (T-02): while the first-contact task is ready; ``working_days(2)``; same test;
* ``resolution``: while the handling sub-process runs (and is not following a legal path after a
  failed mediation); ``handling_deadline``; timed by the process when a ``handling_deadline``
  timer outside a task (the watcher) is armed;
* ``feedback`` (T-52): while the process waits for the rating; ``working_days(3)``; timed by the
  process when a timer on the rating wait is armed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from engine.instance import TaskView, WorkflowInstance
from engine.xmlsafe import safe_fromstring
from workflows.core.actors import SYSTEM
from workflows.deadlines import sla
from workflows.library import contract
from workflows.models import Case, SlaClock, case_rows
from workflows.runtime.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
FIRST_CONTACT_TASK = "contact_citizen"       # the first substantive contact (bpmn/README.md)
LEAD_SIGN_OFF_TASK = "sign_off"
HANDLING_PROCESS = "case_handling"           # the handling call activity's process
HANDLING_EXPRESSION = "handling_deadline"    # routing.dmn output timing the handling
RESPONSE_FALLBACK = {"urgent": "PT2H"}       # T-01a; T-01b PT24H otherwise
POLICIES = {"first_contact": "working_days(2)", "feedback": "working_days(3)"}
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


@dataclass(frozen=True)
class Step:
    """One watched step as the projection sees it now."""

    running: bool
    modelled: bool = False
    start: datetime | None = None
    policy: str | None = None


@dataclass
class ClockState:
    """What the projection learnt: the case's handling deadline (BPMN timer or clock)."""

    handling_due: datetime | None = None


def sync_clocks(uow: UnitOfWork, case: Case, inst: WorkflowInstance, ready: list[TaskView],
                data: dict) -> ClockState:
    """Start, restart and stop the case's SLA clocks for the steps that run now."""
    timers = watch_timers(uow, case)
    armed = inst.armed_timers()
    steps = {"response": _task_step(uow, case, ready, LEAD_SIGN_OFF_TASK,
                                    _response_policy(case, data)),
             "first_contact": _task_step(uow, case, ready, FIRST_CONTACT_TASK,
                                         POLICIES["first_contact"]),
             "resolution": _handling_step(inst, armed, timers, data),
             "feedback": _feedback_step(inst, armed, timers)}
    clocks = case_rows.clocks(uow.session, case)   # read with the case's orders
    for kind, step in steps.items():
        clock = clocks.get(kind)
        running = clock is not None and clock.stopped_at is None
        if step.running and not running and not step.modelled and step.policy \
                and _valid(uow, step.policy):
            start = step.start or uow.clock.now()
            if kind == "response" and clock is None and case.opened_at is not None:
                start = min(start, case.opened_at)  # the first sign-off runs from receipt
            clocks[kind] = sla.start_clock(uow, SYSTEM, case, kind, step.policy, start=start)
        elif running and not step.running:
            sla.stop_clock(uow, SYSTEM, case, kind)
    return ClockState(handling_due=_handling_due(armed, timers, clocks.get("resolution")))


def _valid(uow: UnitOfWork, policy: str | None) -> bool:
    """A deadline spec the calculator accepts (the deployment lint checks the routing table;
    a bad value must not stop the case from moving)."""
    if not policy:
        return False
    try:
        uow.services.calendar.check_spec(policy)
    except ValueError:
        log.warning("SLA clock not started: invalid deadline spec %r", policy)
        return False
    return True


def _task_step(uow: UnitOfWork, case: Case, ready: list[TaskView], bpmn_id: str,
               policy: str | None) -> Step:
    task = next((t for t in ready if t.bpmn_id == bpmn_id), None)
    if task is None:
        return Step(False)
    row = case_rows.open_tasks(uow.session, case).get(task.id)
    return Step(True, modelled=bool(task.timers), start=row.ready_at if row else None,
                policy=policy)


def _handling_step(inst: WorkflowInstance, armed: list, timers: dict, data: dict) -> Step:
    current = inst.current_processes()
    if HANDLING_PROCESS not in current or any(process in current
                                              for process in contract.LEGAL_PATH_PROCESSES):
        # a failed mediation routed to a legal path (R5) is followed on that path's own
        # windows: the handling limit no longer runs
        return Step(False)
    modelled = any(name in timers["handling"] for name, _due in armed)
    return Step(True, modelled=modelled, policy=data.get(HANDLING_EXPRESSION) or None)


def _feedback_step(inst: WorkflowInstance, armed: list, timers: dict) -> Step:
    if contract.MSG_RATING not in inst.waiting_messages():
        return Step(False)
    modelled = any(name in timers["rating"] for name, _due in armed)
    return Step(True, modelled=modelled, policy=POLICIES["feedback"])


def _response_policy(case: Case, data: dict) -> str:
    return data.get("response_deadline") or RESPONSE_FALLBACK.get(case.urgency or "", "PT24H")


def _handling_due(armed: list, timers: dict, clock: SlaClock | None) -> datetime | None:
    """The running handling deadline: the process's own timer, else the resolution clock."""
    dues = [due for name, due in armed if name in timers["handling"]]
    if dues:
        return min(dues)
    if clock is not None and clock.stopped_at is None:
        return clock.due_at
    return None


# -- what the process version times itself (from the BPMN source, cached per bundle) -----------
def watch_timers(uow: UnitOfWork, case: Case) -> dict[str, frozenset[str]]:
    """Names of the version's handling-deadline timers and of the timers on the rating wait."""
    bundle = uow.instance_bundle(case.workflow_instance_id) if case.workflow_instance_id else None
    if bundle is None:
        return {"handling": frozenset(), "rating": frozenset()}
    return bundle.derived("watch_timers", timer_roles)


def timer_roles(files: dict[str, str]) -> dict[str, frozenset[str]]:
    """{"handling": timer names timed by ``handling_deadline`` outside a task (the watcher),
    "rating": boundary timer names on an element that waits for the rating message}."""
    handling: set[str] = set()
    rating: set[str] = set()
    for name, text in sorted(files.items()):
        if not name.endswith(".bpmn"):
            continue
        root = safe_fromstring(text.encode("utf-8") if isinstance(text, str) else text, name)
        rating_messages = {m.get("id") for m in root.iter(f"{BPMN}message")
                           if m.get("name") == contract.MSG_RATING}
        for process in root.iter(f"{BPMN}process"):
            handling |= _watchers(process)
            rating |= _rating_timers(process, rating_messages)
    return {"handling": frozenset(handling), "rating": frozenset(rating)}


def _label(event: etree._Element) -> str:
    return event.get("name") or event.get("id")


def _watchers(process: etree._Element) -> set[str]:
    # the engine's normalized copy reads timeDate ``due_at(handling_deadline)``, the source
    # timeDuration ``handling_deadline``
    wanted = {HANDLING_EXPRESSION, f"due_at({HANDLING_EXPRESSION})"}
    out = set()
    for event in process.iter(f"{BPMN}intermediateCatchEvent"):
        timer = event.find(f"{BPMN}timerEventDefinition")
        if timer is not None and any((child.text or "").strip() in wanted for child in timer):
            out.add(_label(event))
    return out


def _rating_timers(process: etree._Element, messages: set[str]) -> set[str]:
    waits = set()
    for event in process.iter(f"{BPMN}intermediateCatchEvent"):
        definition = event.find(f"{BPMN}messageEventDefinition")
        if definition is not None and definition.get("messageRef") in messages:
            waits.add(event.get("id"))
            parent = event.getparent()
            while parent is not None and parent.tag == f"{BPMN}subProcess":
                waits.add(parent.get("id"))
                parent = parent.getparent()
    return {_label(event) for event in process.iter(f"{BPMN}boundaryEvent")
            if event.get("attachedToRef") in waits
            and event.find(f"{BPMN}timerEventDefinition") is not None}
