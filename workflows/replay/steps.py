"""The case as it was at any event of its chain: diagram state, data, deadlines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.models import ProcessVersion
from workflows.audit.log import AuditAction
from workflows.cases.lookup import find_case
from workflows.core.errors import ErrorCode, NotFound
from workflows.district.units import unit_names_in
from workflows.library.graph import field_words, process_names
from workflows.replay.case_replay import case_events, replay_steps
from workflows.replay.engine import START_ACTIONS, RecordedEvent, Replayer
from workflows.replay.history import HistoryEntry, data_names, people
from workflows.runtime.bootstrap import Services

LIVE = {"READY", "WAITING", "STARTED"}


def stepping_entries(services: Services, history: dict) -> list[HistoryEntry]:
    """The case-chain events worth stepping through: transitions of engine-internal helper tasks
    (Start, joins, boundary splits) are left out; everything else stays."""
    known: set[str] = set()
    for version in history["versions"]:
        known |= element_ids(services, int(version))
    chain = f"case:{history['case_id']}"
    return [e for e in history["entries"] if e.chain == chain and not (
        e.action == AuditAction.TASK_STATE_CHANGED and known
        and e.payload.get("task") not in known)]


# -- the state at one event ------------------------------------------------------------------
@dataclass
class StepState:
    """What the case looked like just after event ``seq``."""

    seq: int
    action: str
    elements: dict[str, dict[str, list[str]]]
    data: dict
    deadlines: list[dict]
    ready: list[dict]
    version_id: int | None
    replay_error: str | None = None
    top_process: str | None = None
    labels: dict[str, str] = field(default_factory=dict)  # data field -> what the forms call it
    options: dict[str, dict[str, str]] = field(default_factory=dict)  # coded values -> names
    units: dict[str, str] = field(default_factory=dict)   # unit codes in the data -> names
    process_names: dict[str, str] = field(default_factory=dict)  # process id -> its name
    account: str | None = None      # the login name of the user who acted (the event's detail)

    def processes(self) -> list[dict[str, str]]:
        """The processes to choose from (the top process before any step is recorded), named."""
        ids = sorted(self.elements) or [p for p in [self.for_process(None)["process_id"]] if p]
        return [{"id": pid, "name": self.process_names.get(pid, pid)} for pid in ids]

    def for_process(self, process_id: str | None) -> dict:
        """The JSON the diagram reads (case-diagram.js: completed, current, process_id)."""
        pid = process_id or self.top_process or next(iter(self.elements), None)
        entry = self.elements.get(pid or "", {"completed": [], "current": []})
        return {"process_id": pid, **entry}


def element_ids(services: Services, version_id: int | None) -> set[str]:
    """BPMN ids of every element of a version (internal helper specs have none)."""
    if version_id is None:
        return set()
    bundle = services.specs.bundle(str(version_id))
    ids: set[str] = set()
    for pid in bundle.top_process_ids:
        for spec in [bundle.spec(pid), *bundle.subprocess_specs(pid).values()]:
            ids.update(t.bpmn_id for t in spec.task_specs.values() if getattr(t, "bpmn_id", None))
    return ids


def _after(event: RecordedEvent, seq: int, transition: int | None) -> bool:
    """True once ``event`` lies beyond event ``seq`` (beyond its ``transition``, if given)."""
    if event.seq != seq or transition is None or event.transition is None:
        return event.seq > seq
    return event.transition > transition


def _element_states(events: list[RecordedEvent], seq: int, known: set[str],
                    transition: int | None = None) -> dict[str, dict[str, list[str]]]:
    """Completed and current BPMN ids per process as recorded by task transitions up to ``seq``
    (up to its ``transition`` for a step event)."""
    tasks: dict[Any, tuple[Any, Any, Any]] = {}   # payload values as recorded
    for event in events:
        if _after(event, seq, transition):
            break
        if event.action == AuditAction.TASK_STATE_CHANGED:
            p = event.payload
            tasks[p.get("task_id")] = (p.get("process"), p.get("task"), p.get("to"))
    out: dict[str, dict[str, set]] = {}
    for process, task, state in tasks.values():
        if known and task not in known:
            continue
        entry = out.setdefault(process, {"completed": set(), "current": set()})
        if state == "COMPLETED":
            entry["completed"].add(task)
        elif state in LIVE:
            entry["current"].add(task)
    return {p: {k: sorted(v) for k, v in e.items()} for p, e in out.items()}


def _data_at(events: list[RecordedEvent], seq: int, fallback: dict,
             transition: int | None = None) -> dict:
    latest = None
    for event in events:
        if _after(event, seq, transition):
            break
        if event.action == AuditAction.TASK_STATE_CHANGED and event.payload.get("to") == "COMPLETED":
            latest = event.payload.get("data_after")
    return latest if isinstance(latest, dict) else fallback


def state_at(services: Services, case_no: str, seq: int,
             transition: int | None = None) -> StepState:
    """Diagram state and data as recorded at ``seq``; deadlines and ready tasks from the replay.
    ``transition``: a place inside the engine step event ``seq`` (the tokens half-way)."""
    with services.session_factory() as session:
        case = find_case(session, case_no)
        events = case_events(session, case.id)
        chosen = next((e for e in events if e.seq == seq and (
            transition is None or e.transition == transition)), None)
        if chosen is None:
            raise NotFound(ErrorCode.NOT_FOUND, event=seq, case_no=case_no)
        replayer: Replayer | None = None
        error: str | None = None
        initial: dict = {}
        for step, current in replay_steps(services, session, case.id, events, seq):
            replayer, error = current, step.error or error
            if step.event.action in START_ACTIONS:
                initial = step.event.payload.get("initial_data") or {}
        instance = replayer.instance if replayer else None
        deadlines = [{"name": name, "due": due.isoformat()}
                     for name, due in (instance.armed_timers() if instance else [])]
        ready = [{"bpmn_id": v.bpmn_id, "name": v.name, "index": v.instance_index,
                  "due": v.due_at.isoformat() if v.due_at else None}
                 for v in (instance.ready_tasks() if instance else [])]
        opened = next((e.payload for e in events if e.action in START_ACTIONS), {})
        version_id = replayer.version_id if replayer else opened.get("process_version_id")
        elements = _element_states(events, seq, element_ids(services, version_id), transition)
        data = _data_at(events, seq, initial, transition)
        version = session.get(ProcessVersion, version_id) if version_id else None
        labels, options = field_words(version.source_files or {}) if version else ({}, {})
        options = {**options, **data_names(session, data)}
        return StepState(seq, chosen.action, elements, data,
                         sorted(deadlines, key=lambda d: d["due"]), ready, version_id, error,
                         instance.process_id if instance else opened.get("process_id"),
                         labels=labels, options=options, units=unit_names_in(session, data),
                         process_names=process_names(version.source_files or {}) if version
                         else {}, account=_account(session, chosen))


def _account(session: Session, event: RecordedEvent) -> str | None:
    person = people(session, [event.actor_id]).get(event.actor_id or "")
    return person.account if person and event.actor_type in ("user", "api") else None


def diagram_source(services: Services, version_id: int, process_id: str | None = None) -> str:
    """The BPMN file of a version that defines ``process_id`` (for bpmn-js)."""
    with services.session_factory() as session:
        version = session.get(ProcessVersion, version_id)
        if version is None:
            raise NotFound(ErrorCode.VERSION_ID_NOT_FOUND, version_id=version_id)
        files = {n: t for n, t in (version.source_files or {}).items() if n.endswith(".bpmn")}
    wanted = process_id or version.process_id
    for text in files.values():
        if f'id="{wanted}"' in text:
            return text
    return next(iter(files.values()), "")
