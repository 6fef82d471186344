"""A small driver that walks the shipped process library (bpmn/) at the engine level.

Every step goes through the real pieces: the deploy compiler and lint, form validation, the restricted
script engine with the working calendar, a frozen clock, and a JSON save/load between steps.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.dmn.engine.DMNEngine import DMNEngine

from engine.clock import FrozenClock, use_clock
from engine.deadlines import SHANGHAI, WorkingCalendar, check_spec
from engine.forms import validate_submission
from engine.instance import TaskView, WorkflowInstance
from engine.operations import OperationRegistry
from engine.script_engine import make_script_engine
from engine.serializer import make_serializer
from engine.specs import CompiledBundle, compile_bundle
from workflows.library.operations import response_due

BPMN_DIR = Path(__file__).resolve().parents[2] / "bpmn"
OPERATIONS = frozenset({"notify", "raise_risk", "response_due", "supervise"})
TOP = "general_dispute"


def bundle_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(BPMN_DIR.iterdir()) if p.suffix in (".bpmn", ".dmn")}


@cache
def library() -> CompiledBundle:
    """The shipped bundle, compiled exactly as `jiefen deploy` does."""
    return compile_bundle(bundle_files(), operations=OPERATIONS, check_spec=check_spec)


def start_data(**overrides: Any) -> dict[str, Any]:
    """Start data as the intake service sets it (bpmn/README.md, data contract)."""
    data = {"case_id": 1, "case_no": "JF-2025-000001", "category": "neighbour", "urgency": "general",
            "people_count": 2, "emergency": False, "statutory_channel": False,
            "party_ids": ["party-a", "party-b"], "duplicate_candidates": [],
            "escalation_level": "none", "second_complaint": False,
            "received_at": "2025-03-03T10:20:00+08:00"}
    data.update(overrides)
    return data


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An Asia/Shanghai wall-clock time as aware UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class Driver:
    """One case instance under a frozen clock; records every service-task call."""

    def __init__(self, at: datetime | None = None, roundtrip: bool = True, **data: Any):
        self.clock = FrozenClock(at or local(2025, 3, 3, 10, 20))
        self.calls: list[tuple[str, dict]] = []
        self.risk = "blue"
        registry = OperationRegistry({"notify": self._notify, "raise_risk": self._raise_risk,
                                      "response_due": response_due, "supervise": self._supervise})
        self.engine = make_script_engine(WorkingCalendar(), registry)
        bundle = library()
        data.setdefault("received_at", self.clock.now().isoformat())
        self.serializer = make_serializer(
            self.engine, lambda version: (bundle.spec(TOP), bundle.subprocess_specs(TOP)))
        self.roundtrip = roundtrip
        with use_clock(self.clock):
            self.inst = WorkflowInstance.start(bundle, TOP, script_engine=self.engine,
                                               data=start_data(**data))
        self._save_load()

    # -- operations (what workflows/library/operations.py implements for real) ----------------------
    def _notify(self, _ctx, data: dict, template: str, to: str, window: str | None = None,
                ends: str | None = None) -> dict:
        self.calls.append(("notify", {"template": template, "to": to, "dept": data.get("dept")}))
        return {"queued": True}

    def _raise_risk(self, _ctx, _data: dict, level: str, reason: str) -> str:
        self.calls.append(("raise_risk", {"level": level, "reason": reason}))
        self.risk = level
        return level

    def _supervise(self, _ctx, _data: dict, limit: str, to: str) -> dict:
        self.calls.append(("supervise", {"limit": limit, "to": to}))
        return {"limit": limit, "to": to}

    def supervised(self) -> list[dict]:
        return [p for op, p in self.calls if op == "supervise"]

    def notified(self, template: str) -> list[dict]:
        return [p for op, p in self.calls if op == "notify" and p["template"] == template]

    # -- driving ----------------------------------------------------------------------------
    def _save_load(self) -> None:
        if self.roundtrip:
            self.inst = WorkflowInstance.load(self.inst.dump(self.serializer), self.serializer)

    def restart(self) -> None:
        """Carry on as a freshly started server would: the saved state loaded with specs compiled
        afresh from bpmn/ (nothing kept in memory from the steps run so far)."""
        fresh = compile_bundle(bundle_files(), operations=OPERATIONS, check_spec=check_spec)
        state = self.inst.dump(self.serializer)
        self.serializer = make_serializer(
            self.engine, lambda version: (fresh.spec(TOP), fresh.subprocess_specs(TOP)))
        self.inst = WorkflowInstance.load(state, self.serializer)

    def ready(self) -> list[str]:
        return sorted(t.bpmn_id for t in self.inst.ready_tasks())

    def tasks(self, bpmn_id: str) -> list[TaskView]:
        return [t for t in self.inst.ready_tasks() if t.bpmn_id == bpmn_id]

    def task(self, bpmn_id: str, dept: str | None = None) -> TaskView:
        found = [t for t in self.tasks(bpmn_id) if dept is None or t.data.get("dept") == dept]
        assert found, f"{bpmn_id} ({dept}) is not ready; ready: {self.ready()}"
        return found[0]

    def complete(self, bpmn_id: str, dept: str | None = None, **form: Any) -> TaskView:
        """Validate ``form`` against the task's BPMN form, then complete it (timers fire first)."""
        view = self.task(bpmn_id, dept)
        clean = validate_submission(view.form, form)
        with use_clock(self.clock):
            self.inst.complete(view.id, clean)
        self._save_load()
        return view

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> None:
        """Move the clock and fire every due timer, as the timer sweep does."""
        self.clock.advance(delta, **kwargs)
        self.fire()

    def until(self, moment: datetime) -> None:
        self.clock.set(moment)
        self.fire()

    def fire(self) -> None:
        with use_clock(self.clock):
            self.inst.fire_timers()
        self._save_load()

    def deliver(self, name: str, payload: Any = None) -> None:
        with use_clock(self.clock):
            self.inst.deliver_message(name, payload)
        self._save_load()

    def timers(self) -> dict[str, datetime]:
        """Armed timers by name (BPMN element name) -> due time in Asia/Shanghai."""
        return {name: due.astimezone(SHANGHAI) for name, due in self.inst.armed_timers()}

    def data(self, bpmn_id: str | None = None) -> dict:
        if bpmn_id is None:
            return self.inst.latest_data()
        return self.task(bpmn_id).data

    @property
    def completed(self) -> bool:
        return self.inst.is_completed()

    def end_events(self) -> set[str]:
        """BPMN ids of the end events reached so far (any process of the instance)."""
        return {t.task_spec.bpmn_id for t in self.inst.workflow.get_tasks()
                if type(t.task_spec).__name__ == "EndEvent" and t.state == TaskState.COMPLETED}


def _first_match(decision_id: str, data: dict):
    parser = library().parser.dmn_parsers[decision_id]
    parser.parse()
    engine = make_script_engine(WorkingCalendar())
    task = SimpleNamespace(data=data, workflow=SimpleNamespace(script_engine=engine))
    matches = DMNEngine(parser.decision.decisionTables[0]).decide(task)
    assert matches, f"no rule of {decision_id} matches {data}"
    return matches[0], engine


def first_rule(decision_id: str, data: dict) -> str:
    """Id of the DMN rule the FIRST hit policy selects for ``data``."""
    return _first_match(decision_id, data)[0].id


def decide(decision_id: str, data: dict) -> dict:
    """The outputs the decision produces for ``data`` (what lands in task data)."""
    rule, engine = _first_match(decision_id, data)
    return {e.output.name: engine.evaluator.evaluate(e.text, data) for e in rule.outputEntries}


def rule_ids(decision_id: str) -> list[str]:
    parser = library().parser.dmn_parsers[decision_id]
    parser.parse()
    return [rule.id for rule in parser.decision.decisionTables[0].rules]


# -- common walks ---------------------------------------------------------------------------

REGISTER = {"category": "neighbour", "urgency": "general", "people_count": "2", "emergency": "false",
            "statutory_channel": "false", "summary": "卫生间渗漏至楼下"}


def register(d: Driver, **changes: Any) -> None:
    d.complete("register", **{**REGISTER, **changes})


def sign_off(d: Driver) -> None:
    d.complete("sign_off", sign_off_decision="accept")


def contact(d: Driver) -> None:
    d.complete("contact_citizen", contact_channel="phone", contact_summary="已电话联系申请人")


def co_orders_done(d: Driver) -> None:
    """Every open co-department order signs off and reports a result."""
    for view in d.tasks("co_sign_off"):
        d.complete("co_sign_off", view.data["dept"], co_sign_off_decision="accept")
    for view in d.tasks("co_handle"):
        d.complete("co_handle", view.data["dept"], co_result="已完成", co_result_status="done")


def finish_and_close(d: Driver, rating: str = "satisfied", outcome: str = "R1") -> None:
    """Submit, approve, rate (by message) and close; the case then waits in the watch window."""
    d.complete("submit_result", outcome=outcome, result_summary="双方达成协议，已履行")
    d.complete("review_result", review_decision="approve")
    d.deliver("rating", rating)


def days(n: float) -> timedelta:
    return timedelta(days=n)
