"""Re-applies recorded audit inputs to a fresh workflow instance under the recorded clock.

Nothing here writes to the database: service-task operations see a throw-away unit of work whose
outbox only remembers dedupe keys, and the session it lends them is never committed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock as engine_clock
from engine.clock import FrozenClock, use_clock
from engine.deadlines import WorkingCalendar
from engine.errors import EngineError
from engine.instance import TaskView, WorkflowInstance, instance_item
from engine.migration import migrate, plan_migration
from engine.models import AuditEvent, ProcessVersion
from engine.operations import operation_context
from engine.recorder import TaskEventRecorder, expand_step
from engine.script_engine import make_script_engine
from engine.specs import CompiledBundle, own_bundle
from workflows.audit.inputs import SET_DATA
from workflows.core.actors import Actor
from workflows.models import Case
from workflows.models.admin import CalendarOverride
from workflows.runtime.bootstrap import Services
from workflows.runtime.unit_of_work import OperationContext, UnitOfWork

REPLAY_ACTOR = Actor(type="replay", id="replay", username="replay")

# The recorded inputs (docs/audit.md "input-event contract"); everything else is read, not re-applied.
START_ACTIONS = frozenset({"case_opened", "instance_started"})
INPUT_ACTIONS = START_ACTIONS | {"task_completed", "timer_fired", "message_received",
                                 "instance_migrated", "data_corrected", "results_merged"}
# Any event whose payload carries SET_DATA changed workflow-level data outside an engine step
# (or right after one): replay applies the values too.


ENGINE_STEP = "engine_step"
TRANSITION = "task_state_changed"


def expand_steps(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """Each step event as the one-transition events recorded before steps were (same seq, hash
    and actor), so history, replay and the diagram read old and new chains alike."""
    out: list[RecordedEvent] = []
    for event in events:
        if event.action != ENGINE_STEP:
            out.append(event)
            continue
        out.extend(replace(event, action=TRANSITION, payload=payload, object_type="task",
                           object_id=payload.get("task_id"), transition=index)
                   for index, payload in enumerate(expand_step(event.payload)))
    return out


class ReplayError(Exception):
    """An input could not be re-applied (the history does not fit the process version)."""


@dataclass
class RecordedEvent:
    """One audit row with its payload parsed."""

    seq: int
    action: str
    occurred_at: datetime
    payload: dict
    actor_type: str | None = None
    actor_id: str | None = None
    actor_role: str | None = None
    actor_department_id: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    hash: str = ""
    prev_hash: str = ""
    key_id: str = ""
    id: int | None = None  # global insertion order (ties between chains at the same instant)
    transition: int | None = None  # place within its engine step (a step event read as transitions)

    @classmethod
    def from_row(cls, row: dict) -> RecordedEvent:
        try:
            payload = json.loads(row["payload"]) if row["payload"] else {}
        except ValueError:
            payload = {"_unreadable": row["payload"]}
        fields = {k: row.get(k) for k in ("actor_type", "actor_id", "actor_role",
                                          "actor_department_id", "object_type", "object_id")}
        return cls(seq=row["seq"], action=row["action"], occurred_at=_aware(row["occurred_at"]),
                   payload=payload if isinstance(payload, dict) else {"value": payload},
                   hash=row.get("hash") or "", prev_hash=row.get("prev_hash") or "",
                   key_id=row.get("key_id") or "", id=row.get("id"), **fields)

    @classmethod
    def from_model(cls, row: AuditEvent) -> RecordedEvent:
        """From an AuditEvent ORM row."""
        return cls.from_row({c: getattr(row, c) for c in (
            "id", "seq", "action", "occurred_at", "payload", "hash", "prev_hash", "key_id", "actor_type",
            "actor_id", "actor_role", "actor_department_id", "object_type", "object_id")})

    @property
    def is_input(self) -> bool:
        return self.action in INPUT_ACTIONS or isinstance(self.payload.get(SET_DATA), dict)

    @property
    def step_at(self) -> datetime:
        """The instant the engine step ran: payload ``at`` (or ``fired_at``), else occurred_at."""
        for key in ("at", "fired_at"):
            value = self.payload.get(key)
            if isinstance(value, str):
                try:
                    return _aware(datetime.fromisoformat(value.replace("Z", "+00:00")))
                except ValueError:
                    continue
        return self.occurred_at


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class AsOfCalendar:
    """Deadline calendar with the admin overrides that were in force at the engine clock's instant."""

    def __init__(self, rows: list[tuple], tz: str):
        self.rows = rows  # (day, is_workday, created_at, superseded_at)
        self.tz = ZoneInfo(tz)
        self._cache: dict[frozenset, WorkingCalendar] = {}

    @classmethod
    def load(cls, session: Session, tz: str) -> AsOfCalendar:
        rows = [(r.day, r.kind == "workday", _aware(r.created_at),
                 _aware(r.superseded_at) if r.superseded_at else None)
                for r in session.scalars(select(CalendarOverride))]
        return cls(rows, tz)

    def at(self, moment: datetime) -> WorkingCalendar:
        valid = frozenset((day, work) for day, work, created, superseded in self.rows
                          if created <= moment and (superseded is None or superseded > moment))
        if valid not in self._cache:
            self._cache[valid] = WorkingCalendar(dict(valid), tz=self.tz)
        return self._cache[valid]

    def resolve(self, spec: str, start: datetime) -> datetime:
        return self.at(engine_clock.now()).resolve(spec, start)

    def warn_at(self, spec: str, start: datetime) -> datetime:
        return self.at(engine_clock.now()).warn_at(spec, start)


class DryOutbox:
    """Outbox stand-in: same dedupe answers as the live run had, nothing stored."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.messages: list[dict] = []

    def add(self, *, dedupe_key: str, **fields: Any) -> SimpleNamespace | None:
        if dedupe_key in self.keys:
            return None
        self.keys.add(dedupe_key)
        self.messages.append({"dedupe_key": dedupe_key, **fields})
        return SimpleNamespace(dedupe_key=dedupe_key, **fields)


class _DryAudit:
    def record(self, *args: Any, **kwargs: Any) -> None:
        """Operations may audit; a replay records nothing of theirs."""


@dataclass
class Step:
    """What one re-applied input produced."""

    event: RecordedEvent
    transitions: list[dict] = field(default_factory=list)
    digest: str | None = None
    error: str | None = None


class Replayer:
    """Holds the fresh instance of one case and applies its inputs one at a time."""

    def __init__(self, services: Services, session: Session, case_id: int | None):
        self.services, self.session, self.case_id = services, session, case_id
        self.case = _case_stand_in(session, case_id)
        self.calendar = AsOfCalendar.load(session, services.settings.timezone)
        self.script_engine = make_script_engine(self.calendar, services.operations,
                                                services.settings.max_cardinality)
        self.instance: WorkflowInstance | None = None
        self.version_id: int | None = None
        self.outbox = DryOutbox()
        self.clock = FrozenClock(datetime(2000, 1, 1, tzinfo=UTC))
        self.withheld: set[str] = set()             # results a later results_merged took in
        self._own: dict[str, CompiledBundle] = {}   # specs of this replay alone (withholding)

    def withhold(self, events: list[RecordedEvent]) -> None:
        """Results the live steps lost (a multi-instance step that never took them in, before
        the specs were wired on compile) and ``results_merged`` took in later: the replay's
        steps do not take them in either until that event, so the history reproduces."""
        self.withheld = {_result_key(m.get("activity"), m.get("item")) for e in events
                         if e.action == "results_merged" for m in e.payload.get("merged") or []}

    # -- one input ----------------------------------------------------------------------------
    def apply(self, event: RecordedEvent) -> Step:
        """Re-apply one input under FrozenClock(step instant); errors are reported, not raised."""
        step = Step(event)
        self.clock.set(event.step_at)
        try:
            if event.action in START_ACTIONS:
                self._start(event.payload)
            if self.instance is None:
                raise ReplayError("no workflow instance yet (case_opened missing or not first)")
            with self._context() as recorder:
                self._run(event, recorder)
            step.transitions = recorder.events
        except (EngineError, ReplayError, KeyError, ValueError, TypeError, AttributeError) as exc:
            step.error = f"{type(exc).__name__}: {exc}"
            return step
        step.digest = self.instance.state_digest()
        return step

    @property
    def live(self) -> WorkflowInstance:
        """The instance being replayed (``apply`` re-applies nothing before the start event)."""
        assert self.instance is not None
        return self.instance

    def _context(self) -> _StepContext:
        return _StepContext(self)

    def _start(self, payload: dict) -> None:
        version_id = int(payload["process_version_id"])
        version = self.session.get(ProcessVersion, version_id)
        if version is None:
            raise ReplayError(f"process version {version_id} no longer exists")
        process_id = payload.get("process_id") or version.process_id
        bundle = self.bundle(version_id)
        self.instance = WorkflowInstance.create(
            bundle, process_id, script_engine=self.script_engine,
            data=payload.get("initial_data") or {}, spec_version=f"{version_id}:{process_id}")
        self.version_id = version_id

    def bundle(self, version_id: int) -> CompiledBundle:
        """Compiled specs of a version, read through the replay's own session on a cache miss.

        (On SQLite every transaction holds the write lock: a second connection would wait.)"""
        def files() -> dict:
            version = self.session.get(ProcessVersion, int(version_id))
            if version is None:
                raise ReplayError(f"process version {version_id} no longer exists")
            return version.engine_files

        if not self.withheld:
            return self.services.specs.bundle(str(version_id), files)
        key = str(version_id)
        if key not in self._own:   # never the shared specs: their wiring serves live steps
            self._own[key] = bundle = own_bundle(files())
            for parsed in bundle.parser.process_parsers.values():
                for spec in (parsed.spec.task_specs.values() if parsed.spec is not None else ()):
                    if isinstance(spec, LoopTask):
                        inner = parsed.spec.task_specs[spec.task_spec].completed_event
                        inner.disconnect(spec.merge_child)
                        # on the spec itself: creating an instance connects spec.merge_child
                        spec.merge_child = self._merge_unless_withheld(spec)
                        inner.connect(spec.merge_child)
        return self._own[key]

    def _merge_unless_withheld(self, spec: LoopTask) -> Callable[[Any, Any], None]:
        merge = type(spec).merge_child

        def merge_child(workflow: Any, child: Any) -> None:
            if _result_key(spec.bpmn_id, instance_item(spec, child)) not in self.withheld:
                merge(spec, workflow, child)
        return merge_child

    def _run(self, event: RecordedEvent, recorder: TaskEventRecorder) -> None:
        payload, instance = event.payload, self.live
        if event.action in START_ACTIONS:
            instance.advance()
        elif event.action == "task_completed":
            view = self._locate(payload)
            instance.complete(view.id, payload.get("submitted") or {})
        elif event.action == "timer_fired":
            instance.fire_timers()
        elif event.action == "message_received":
            instance.deliver_message(payload["name"], payload.get("payload"))
        elif event.action == "instance_migrated":
            self._migrate(payload)
        elif event.action == "data_corrected":
            instance.set_data(**(payload.get("values") or {}))
        elif event.action == "results_merged":
            self.withheld -= {_result_key(m.get("activity"), m.get("item"))
                              for m in payload.get("merged") or []}
            instance.merge_lost_results()
        if isinstance(payload.get(SET_DATA), dict):
            instance.set_data(**payload[SET_DATA])

    def _locate(self, payload: dict) -> TaskView:
        """The READY task the event completed: bpmn id, multi-instance index, process and ``dept``.

        Tasks inside a multi-instance call activity (one department order per co-department)
        all have index None; the recorded ``dept`` tells them apart."""
        bpmn_id, index = payload["bpmn_id"], payload.get("instance_index")
        process, dept = payload.get("process_id"), payload.get("dept")
        for view in self.live.ready_tasks():
            if view.bpmn_id == bpmn_id and (index is None or view.instance_index == index) \
                    and (not process or view.process_id == process) \
                    and (dept is None or view.data.get("dept") == dept):
                return view
        ready = ", ".join(_label(v.bpmn_id, v.instance_index, v.data.get("dept"))
                          for v in self.live.ready_tasks()) or "none"
        where = _label(bpmn_id, index, dept)
        raise ReplayError(f"task {where} is not ready in the replay (ready: {ready})")

    def _migrate(self, payload: dict) -> None:
        to: dict = payload.get("to") or {}
        # a record without the target fails here, reported as the step's error
        target = int(payload.get("to_version_id") or to.get("version_id"))  # type: ignore[arg-type]
        instance = self.live
        process_id = instance.process_id
        bundle = self.bundle(target)
        plan = plan_migration(instance, self.services.serializer.registry,
                              bundle.spec(process_id), bundle.subprocess_specs(process_id))
        migrate(instance, plan, f"{target}:{process_id}")
        instance.advance()  # as workflows.processes.case_migration.migrate_case does
        self.version_id = target


def _result_key(activity: Any, item: Any) -> str:
    return json.dumps([activity, item], sort_keys=True, default=str)


def _label(bpmn_id: str, index: int | None, dept: Any) -> str:
    where = f"{bpmn_id}[{index}]" if index is not None else bpmn_id
    return f"{where}@{dept}" if dept else where


def _case_stand_in(session: Session, case_id: int | None) -> SimpleNamespace | None:
    """A detached copy of the case row for operations (they may read or set attributes on it;
    nothing reaches the database)."""
    if case_id is None:
        return None

    row = session.get(Case, case_id)
    if row is None:
        return SimpleNamespace(id=case_id)
    return SimpleNamespace(**{c.key: getattr(row, c.key) for c in Case.__table__.columns})


class _StepContext:
    """Frozen clock, a dry operation context and a task recorder for one replayed step."""

    def __init__(self, replayer: Replayer):
        self.replayer = replayer

    def __enter__(self) -> TaskEventRecorder:
        r = self.replayer
        self.stack = ExitStack()
        self.stack.enter_context(use_clock(r.clock.now))
        unit = SimpleNamespace(clock=r.clock, outbox=r.outbox, audit=_DryAudit(), session=r.session,
                               services=r.services)

        dry = cast("UnitOfWork", unit)  # a stand-in with the attributes operations use
        case = cast("Case | None", r.case)  # the replay's stand-in row has the fields operations read
        self.stack.enter_context(operation_context(OperationContext(dry, REPLAY_ACTOR, case)))
        return self.stack.enter_context(TaskEventRecorder(
            r.live.workflow, r.services.serializer.registry, r.clock.now))

    def __exit__(self, *exc: object) -> None:
        self.stack.close()
