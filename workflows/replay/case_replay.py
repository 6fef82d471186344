"""Verified re-execution of a case from its recorded inputs (docs/audit.md).

``replay_case`` verifies the case chain, rebuilds the starting process version, re-applies every
input event in ``seq`` order under a frozen clock set to the recorded instant and compares the
state digest (and the task transitions) after each input with what was recorded.
Producers of input events record them with ``record_input`` / ``record_timers_fired`` /
``write_data`` (or build the payload with ``input_payload``), all from ``workflows.audit.inputs``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit_chain import ChainBreak
from engine.instance import WorkflowInstance
from engine.models import AuditEvent, InstanceRow
from workflows.audit.log import AuditAction, verify_chains
from workflows.cases.lookup import find_case
from workflows.core.actors import Actor
from workflows.models import Case
from workflows.replay.engine import REPLAY_ACTOR, RecordedEvent, Replayer, Step, expand_steps
from workflows.runtime.bootstrap import Services


@dataclass
class Divergence:
    """The first place the replay and the record disagree."""

    seq: int | None
    action: str
    reason: str
    expected: str | None = None
    actual: str | None = None
    data_diff: list[dict] = field(default_factory=list)
    transitions: dict | None = None

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "stored state"
        return f"{where} ({self.action}): {self.reason}"


@dataclass
class ReplayReport:
    """Outcome of a replay: verified, diverged, broken_chain or incomplete."""

    case_no: str
    case_id: int
    result: str = "verified"
    inputs: int = 0
    verified: int = 0
    events: int = 0
    until_seq: int | None = None
    divergence: Divergence | None = None
    chain_break: ChainBreak | None = None
    unverified: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    final_digest: str | None = None
    steps: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.result == "verified"

    def summary(self) -> str:
        """One line for the CLI and the page."""
        if self.result == "verified":
            return f"verified: {self.verified} events reproduce"
        if self.result == "broken_chain" and self.chain_break is not None:
            return f"refused: audit chain broken at seq {self.chain_break.seq}: {self.chain_break.reason}"
        if self.result == "incomplete":
            seqs = ", ".join(str(s) for s in self.unverified[:10])
            return (f"incomplete: {self.verified} events reproduce, {len(self.unverified)} inputs "
                    f"carry no state_digest (seq {seqs})")
        return f"diverged at {self.divergence}"

    def as_dict(self) -> dict:
        data = asdict(self)
        data["chain_break"] = None if self.chain_break is None else {
            "chain": self.chain_break.chain_key, "seq": self.chain_break.seq,
            "reason": self.chain_break.reason}
        data["ok"], data["summary"] = self.ok, self.summary()
        return data


# -- reading the record --------------------------------------------------------------------------
def case_events(session: Session, case_id: int) -> list[RecordedEvent]:
    """Every event of the case chain, in seq order, payloads parsed."""
    query = select(AuditEvent).where(AuditEvent.chain_key == f"case:{case_id}") \
        .order_by(AuditEvent.seq, AuditEvent.id)
    return expand_steps([RecordedEvent.from_model(row) for row in session.scalars(query)])


def _segments(events: list[RecordedEvent]) -> dict[int, list[dict]]:
    """Recorded task transitions of each input: the task_state_changed events since the last input."""
    out: dict[int, list[dict]] = {}
    pending: list[dict] = []
    for event in events:
        if event.action == AuditAction.TASK_STATE_CHANGED:
            pending.append(event.payload)
        elif event.is_input:
            out[event.seq], pending = pending, []
    return out


def _key(t: dict) -> tuple:
    return (t.get("process"), t.get("task"), t.get("from"), t.get("to"))


def replay_steps(services: Services, session: Session, case_id: int, events: list[RecordedEvent],
                 until_seq: int | None = None) -> Iterator[tuple[Step, Replayer]]:
    """Re-apply the inputs among ``events`` (up to ``until_seq``); yields each step and the replayer."""
    replayer = Replayer(services, session, case_id)
    replayer.withhold(events)
    for event in events:
        if until_seq is not None and event.seq > until_seq:
            break
        if event.is_input:
            yield replayer.apply(event), replayer


# -- comparing -----------------------------------------------------------------------------------
def data_diff(expected: Any, actual: Any, path: str = "") -> list[dict]:
    """Keys whose values differ, as [{key, expected, actual}] (nested dicts by dotted path)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in expected:
                out.append({"key": sub, "expected": None, "actual": actual[key], "change": "added"})
            elif key not in actual:
                out.append({"key": sub, "expected": expected[key], "actual": None,
                            "change": "missing"})
            else:
                out.extend(data_diff(expected[key], actual[key], sub))
        return out
    return [] if expected == actual else [{"key": path or "(data)", "expected": expected,
                                           "actual": actual, "change": "changed"}]


def _completed_data_diff(recorded: list[dict], replayed: list[dict]) -> list[dict]:
    done = [t for t in recorded if t.get("to") == "COMPLETED"]
    redone = [t for t in replayed if t.get("to") == "COMPLETED"]
    for old, new in zip(done, redone):
        diff = data_diff(old.get("data_after"), new.get("data_after"))
        if diff:
            return [{**d, "task": old.get("task")} for d in diff]
    return []


def _check(step: Step, recorded: list[dict], verify: bool = True) -> Divergence | None:
    event = step.event
    if step.error:
        return Divergence(event.seq, event.action, f"input could not be re-applied: {step.error}")
    if not verify:
        return None
    replayed = step.transitions
    if recorded and [_key(t) for t in recorded] != [_key(t) for t in replayed]:
        index = next((i for i, (a, b) in enumerate(zip(recorded, replayed)) if _key(a) != _key(b)),
                     min(len(recorded), len(replayed)))
        return Divergence(event.seq, event.action, "task transitions differ",
                          data_diff=_completed_data_diff(recorded, replayed),
                          transitions={"index": index,
                                       "expected": [list(_key(t)) for t in recorded[index:index + 3]],
                                       "actual": [list(_key(t)) for t in replayed[index:index + 3]]})
    expected = event.payload.get("state_digest")
    if expected and expected != step.digest:
        return Divergence(event.seq, event.action, "state digest differs", expected, step.digest,
                          _completed_data_diff(recorded, replayed))
    return None


def _check_stored(services: Services, session: Session, case: Case,
                  replayer: Replayer) -> Divergence | None:
    """The stored instance must be the state the history leads to (else it was altered)."""
    if not case.workflow_instance_id or replayer.instance is None:
        return None
    row = session.get(InstanceRow, case.workflow_instance_id)
    if row is None:
        return Divergence(None, "workflow_instance", "the case's workflow instance row is missing")
    actual = replayer.instance.state_digest()
    try:
        stored = WorkflowInstance.load(row.state, services.serializer)
    except Exception as exc:  # a hand-edited state may not even deserialize
        return Divergence(None, "workflow_instance", f"stored state unreadable: {exc}", row.state_digest,
                          actual)
    stored_digest = stored.state_digest()
    if stored_digest != actual or (row.state_digest and row.state_digest != actual):
        return Divergence(None, "workflow_instance",
                          "stored workflow state differs from the replayed history "
                          "(changed outside jiefen?)", stored_digest, actual,
                          data_diff(stored.latest_data(), replayer.instance.latest_data()))
    return None


# -- the use case --------------------------------------------------------------------------------
def replay_case(services: Services, case_no: str, *, verify: bool = True,
                until_seq: int | None = None, actor: Actor | None = None,
                record: bool | None = None) -> ReplayReport:
    """Re-execute a case from its recorded inputs; record ``case_replayed`` for full verifications."""
    with services.session_factory() as session:
        case = find_case(session, case_no)
        report = ReplayReport(case_no, case.id, until_seq=until_seq)
        chain = f"case:{case.id}"
        check = verify_chains(session, services.keyring, [chain])
        if not check.ok:
            report.result, report.chain_break = "broken_chain", check.breaks[0]
        else:
            _run(services, session, case, report, verify)
    if record if record is not None else (verify and until_seq is None):
        _record(services, case.id, report, actor or REPLAY_ACTOR)
    return report


def _run(services: Services, session: Session, case: Case, report: ReplayReport,
         verify: bool) -> None:
    events = case_events(session, case.id)
    report.events = len(events)
    segments = _segments(events)
    replayer = None
    for step, current in replay_steps(services, session, case.id, events, report.until_seq):
        replayer = current
        report.inputs += 1
        divergence = _check(step, segments.get(step.event.seq, []), verify)
        report.steps.append({"seq": step.event.seq, "action": step.event.action,
                             "digest": step.digest, "ok": divergence is None})
        if divergence is not None:
            report.result, report.divergence = "diverged", divergence
            return
        if verify and not step.event.payload.get("state_digest"):
            report.unverified.append(step.event.seq)
        else:
            report.verified += 1
    if replayer is None or replayer.instance is None:
        report.result = "incomplete"
        report.warnings.append("no input events recorded for this case")
        return
    report.final_digest = replayer.instance.state_digest()
    divergence = _check_stored(services, session, case, replayer) \
        if verify and report.until_seq is None else None
    if divergence is not None:
        report.result, report.divergence = "diverged", divergence
    elif report.unverified:
        report.result = "incomplete"


def _record(services: Services, case_id: int, report: ReplayReport, actor: Actor) -> None:
    divergence = None if report.divergence is None else {
        "seq": report.divergence.seq, "action": report.divergence.action,
        "reason": report.divergence.reason, "expected": report.divergence.expected,
        "actual": report.divergence.actual}
    with services.new_uow() as uow:
        uow.audit.record(AuditAction.CASE_REPLAYED, actor, case=case_id, object_type="case",
                         object_id=case_id, result=report.result, summary=report.summary(),
                         inputs=report.inputs, verified=report.verified, events=report.events,
                         divergence=divergence, final_digest=report.final_digest)
        uow.commit()
