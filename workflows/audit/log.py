"""The audit log: events collected during a unit of work, appended to per-case HMAC chains at commit."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Select,
    String,
    Table,
    Update,
    bindparam,
    exists,
    insert,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.orm import Session

from engine.audit_chain import (
    GENESIS,
    ChainBreak,
    canonical_json,
    chain_hash,
    event_body,
    verify_chain,
)
from engine.clock import Clock
from engine.crypto import KeyPurpose, Keyring, UnknownKey
from engine.models import AuditChainHead, AuditCheckpoint, AuditEvent
from engine.recorder import json_copy
from workflows.audit.bulk_verify import snapshot, verify_all
from workflows.audit.checkpoints import verify_checkpoint
from workflows.audit.coverage import SYSTEM_CHAIN, missing_records
from workflows.core.actors import Actor
from workflows.core.head_append import insert_under, one_statement
from workflows.models import Case, fresh


class AuditAction(StrEnum):
    """Event names: <subject>_<past_tense_verb>."""

    CASE_OPENED = "case_opened"
    CASE_UPDATED = "case_updated"
    CASE_CLOSED = "case_closed"
    CASE_REOPENED = "case_reopened"
    SUBMISSION_LINKED = "submission_linked"
    TASK_STATE_CHANGED = "task_state_changed"   # one transition (events recorded before steps)
    ENGINE_STEP = "engine_step"                 # the transitions and data of one engine step
    TASK_COMPLETED = "task_completed"
    TASK_CLAIMED = "task_claimed"
    TASK_RELEASED = "task_released"
    TIMER_FIRED = "timer_fired"
    MESSAGE_RECEIVED = "message_received"
    PROCESS_DEPLOYED = "process_deployed"
    PROCESS_REJECTED = "process_rejected"
    PROCESS_APPROVED = "process_approved"
    PROCESS_RETIRED = "process_retired"
    DRAFTS_CLEANED = "drafts_cleaned"
    DRY_RUN_EXAMPLE_SAVED = "dry_run_example_saved"
    DRY_RUN_EXAMPLE_DELETED = "dry_run_example_deleted"
    INSTANCE_MIGRATED = "instance_migrated"
    INSTANCE_STARTED = "instance_started"
    RESULTS_MERGED = "results_merged"           # lost multi-instance results taken in (repair)
    WORK_ORDER_CHANGED = "work_order_changed"
    RISK_CHANGED = "risk_changed"
    PARTY_REGISTERED = "party_registered"
    PARTY_VIEWED = "party_viewed"
    PARTY_UNMASKED = "party_unmasked"
    NARRATIVE_UNMASKED = "narrative_unmasked"      # the complaint narrative revealed (purpose)
    PARTIES_SEARCHED = "parties_searched"          # intake duplicate check by blind index
    AUDIT_PAYLOADS_READ = "audit_payloads_read"    # raw audit payloads read (auditors, API)
    AUDIT_VERIFIED = "audit_verified"              # a verification run of the chains
    REPORT_DOWNLOADED = "report_downloaded"
    ACCESS_DENIED = "access_denied"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGIN_PASSWORD_ACCEPTED = "login_password_accepted"  # noqa: S105 - the second factor is due
    SECOND_FACTOR_ENROLLED = "second_factor_enrolled"
    SECOND_FACTOR_RESET = "second_factor_reset"    # removed by an administrator (lost phone)
    LOGGED_OUT = "logged_out"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    USER_UPDATED = "user_updated"
    USER_ENABLED = "user_enabled"
    USER_UNLOCKED = "user_unlocked"                # sign-in throttle cleared by an admin
    PASSWORD_RESET = "password_reset"              # noqa: S105 - an event name
    UNIT_CREATED = "unit_created"
    UNIT_UPDATED = "unit_updated"
    ROLE_GRANTED = "role_granted"
    TOKEN_CREATED = "token_created"  # noqa: S105 - an event name
    TOKEN_REVOKED = "token_revoked"  # noqa: S105 - an event name
    CALENDAR_CHANGED = "calendar_changed"
    NOTIFICATION_QUEUED = "notification_queued"
    OUTBOX_FAILED = "outbox_failed"
    INCIDENT_RAISED = "incident_raised"
    CASE_REPLAYED = "case_replayed"
    CASE_EXPORTED = "case_exported"
    SLA_CHANGED = "sla_changed"
    SLA_REQUESTED = "sla_requested"
    SLA_DECIDED = "sla_decided"
    LIGHT_CHANGED = "light_changed"
    SUPERVISION_ISSUED = "supervision_issued"
    SUPERVISION_REPLIED = "supervision_replied"
    SUPERVISION_CLOSED = "supervision_closed"      # an unanswered 督办单 closed with its case
    TIER_UPGRADED = "tier_upgraded"
    INCIDENT_RETRIED = "incident_retried"
    OUTBOX_RETRIED = "outbox_retried"
    REPORT_GENERATED = "report_generated"
    WARNING_RAISED = "warning_raised"
    WARNING_DECIDED = "warning_decided"            # 已核实 / 误报, with the note
    WARNING_RULE_CHANGED = "warning_rule_changed"  # a rule's switch, thresholds or categories
    CHANNEL_SECRET_ISSUED = "channel_secret_issued"  # noqa: S105 - an event name (no secret)
    CHANNEL_ORDER_QUARANTINED = "channel_order_quarantined"
    CHANNEL_ORDER_VIEWED = "channel_order_viewed"    # a clerk opened a quarantined order
    CHANNEL_ORDER_RESOLVED = "channel_order_resolved"
    CATEGORY_MAPPING_CHANGED = "category_mapping_changed"
    CASE_TYPE_CHANGED = "case_type_changed"          # a category's entry process set or removed
    INTERFACE_SAVED = "interface_saved"              # a catalogue row or feed created or edited
    INTERFACE_SILENT = "interface_silent"
    DIRECTORY_IMPORTED = "directory_imported"   # places, units or users imported from a file
    ROOM_SAVED = "room_saved"                   # a mediation room created, edited or imported
    SESSION_BOOKED = "session_booked"           # a mediation session booked (room or online)
    SESSION_RESCHEDULED = "session_rescheduled"
    SESSION_CANCELLED = "session_cancelled"     # its slots released
    SESSION_ATTENDED = "session_attended"       # who took part and how (or a no-show)
    SESSION_CO_MEDIATOR = "session_co_mediator"  # a second mediator named (or taken off)
    EXPERT_SAVED = "expert_saved"
    EXPERT_INVITED = "expert_invited"           # with the conflicts of interest shown
    EXPERT_OPINION_SUBMITTED = "expert_opinion_submitted"
    ASSISTANT_SUGGESTED = "assistant_suggested"  # the intake assistant's suggestion and the final category
    RED_FLAG_RAISED = "red_flag_raised"          # urgent words in a description: a person reviews
    RED_FLAG_REVIEWED = "red_flag_reviewed"
    ASSISTANT_RETRAINED = "assistant_retrained"  # a model trained; replaced or refused
    KPI_TARGET_CHANGED = "kpi_target_changed"   # a KPI target added, edited, removed or imported
    DEVICES_IMPORTED = "devices_imported"       # the IoT device registry imported from a file
    ALARM_RECEIVED = "alarm_received"           # a device's alarm opened or joined a case
    ALARM_CLEARED = "alarm_cleared"             # the device reported the alarm cleared
    ALARM_QUARANTINED = "alarm_quarantined"     # an alarm from an unknown device kept aside
    ATTACHMENT_ADDED = "attachment_added"       # a file stored on a case (its sha256)
    ATTACHMENT_DOWNLOADED = "attachment_downloaded"  # someone fetched an attached file
    GRID_REPORTED = "grid_reported"             # a grid worker's report registered
    GRID_VISIT_RECORDED = "grid_visit_recorded"  # a grid worker's follow-up visit
    CALL_TASK_COMPLETED = "call_task_completed"  # a phone-call task done: outcome, not the note
    LEGAL_PATH_ENTERED = "legal_path_entered"    # a case routed to a followed statutory channel


@dataclass
class PendingEvent:
    """An event waiting for the commit; ``case``: an id, or a row whose id appears at flush;
    ``object_id`` likewise text, or a row not yet flushed (its id is read at the append)."""

    action: str
    actor: Actor
    occurred_at: datetime
    payload: dict
    case: Case | int | None = None
    object_type: str | None = None
    object_id: str | Any = None
    chain_key: str | None = None

    def object_text(self) -> str | None:
        if self.object_id is None or isinstance(self.object_id, str):
            return self.object_id
        return str(self.object_id.id)

    def resolve(self) -> tuple[str, int | None]:
        case_id = self.case if self.case is None or isinstance(self.case, int) else self.case.id
        if self.chain_key:
            return self.chain_key, case_id
        return (f"case:{case_id}" if case_id is not None else SYSTEM_CHAIN), case_id


@dataclass
class AuditLog:
    """Collects events of one unit of work; ``append_pending`` writes them inside its transaction."""

    session: Session
    keyring: Keyring
    clock: Clock
    pending: list[PendingEvent] = field(default_factory=list)

    def record(self, action: str, actor: Actor, *, case: Case | int | None = None,
               object_type: str | None = None, object_id: Any = None,
               chain_key: str | None = None, **payload: Any) -> None:
        """Queue an event; the payload is deep-copied now so later changes cannot rewrite history."""
        self.record_copy(action, actor, json_copy(payload), case=case, object_type=object_type,
                         object_id=object_id, chain_key=chain_key)

    def record_copy(self, action: str, actor: Actor, payload: dict, *,
                    case: Case | int | None = None,
                    object_type: str | None = None, object_id: Any = None,
                    chain_key: str | None = None) -> None:
        """Queue an event whose payload is already a private JSON copy (the engine recorder's)."""
        self.pending.append(PendingEvent(
            str(action), actor, self.clock.now(), payload, case, object_type,
            _object_key(object_id), chain_key))

    def append_pending(self) -> int:
        """Append every queued event to its chain (called by UnitOfWork.commit after flush)."""
        events, self.pending = self.pending, []
        by_chain: dict[str, list[tuple[PendingEvent, int | None]]] = {}
        for event in events:
            chain, case_id = event.resolve()
            by_chain.setdefault(chain, []).append((event, case_id))
        for chain, items in by_chain.items():
            self._append_chain(chain, items)
        return len(events)

    def _append_chain(self, chain: str, items: list[tuple[PendingEvent, int | None]]) -> None:
        case_id = items[0][1]
        head = self._head(chain, case_id)
        rows = self._linked(chain, head, items)
        if not isinstance(head, AuditChainHead):
            if head.append(rows):
                return
            # appended to meanwhile (a colleague's step, the sweep): wait for that transaction
            # and link after what it wrote, as if the head had been locked from the start
            head = self._locked_head(chain)
            rows = self._linked(chain, head, items)
        self.session.execute(_INSERT_EVENTS, rows)

    def _linked(self, chain: str, head: AuditChainHead | _UnlockedHead,
                items: list[tuple[PendingEvent, int | None]]) -> list[dict]:
        """The events as rows linked from ``head``, which moves to the last of them."""
        key_id = self.keyring.primary_id(KeyPurpose.AUDIT_HMAC)
        key = self.keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
        rows = []
        for event, case_id in items:
            header = _header(chain, head.last_seq + 1, event, case_id, key_id)
            payload_text = canonical_json(event.payload)
            digest = chain_hash(key, head.last_hash, event_body(header, payload_text))
            rows.append({**header, "payload": payload_text, "prev_hash": head.last_hash,
                         "hash": digest})
            head.last_seq, head.last_hash = head.last_seq + 1, digest
        return rows

    def _head(self, chain: str, case_id: int | None) -> AuditChainHead | _UnlockedHead:
        known = self.session.info.get(_HEADS_READ, {}).pop(chain, None)
        if known is not None:
            return _ReadHead(self.session, chain, *known)
        if chain == f"case:{case_id}" and fresh.created_here(self.session, case_id):
            # a case this transaction inserted has no chain yet: the head's INSERT starts it (a
            # head row there already would fail the INSERT, as any lost race)
            return _NewHead(self.session, chain, 0, GENESIS)
        return self._locked_head(chain)

    def _locked_head(self, chain: str) -> AuditChainHead:
        query = select(AuditChainHead).where(AuditChainHead.chain_key == chain).with_for_update()
        head = self.session.scalars(query).first()
        if head is None:
            head = AuditChainHead(chain_key=chain, last_seq=0, last_hash=GENESIS)
            self.session.add(head)
        return head


# -- a case's chain head read with the case ------------------------------------------------------
_HEADS_READ = "jiefen.audit_heads_read"    # chain -> (seq, hash) as read with its case


def with_case_head(query: Select) -> Select:
    """``query`` (of ``Case``) with the head of the case's chain as two more columns (NULL for a
    chain not started), so appending to it later needs no read of its own."""
    chain = literal_column("'case:'").concat(cast_(Case.id, String))
    return (query.add_columns(AuditChainHead.last_seq, AuditChainHead.last_hash)
            .outerjoin(AuditChainHead, AuditChainHead.chain_key == chain))


def note_case_head(session: Session, case_id: int, seq: int | None, last: str | None) -> None:
    """Keep the head ``with_case_head`` read: the append moves it only if it is still there."""
    if seq is not None and last is not None:
        session.info.setdefault(_HEADS_READ, {})[f"case:{case_id}"] = (seq, last)


class _UnlockedHead:
    """A head not locked by a read: its UPDATE or INSERT moves it, with the events appended in
    the same statement on PostgreSQL (``workflows.core.head_append``), else just before them."""

    def __init__(self, session: Session, chain: str, seq: int, last: str):
        self.session, self.chain_key, self.last_seq, self.last_hash = session, chain, seq, last
        self._read = (seq, last)

    def append(self, rows: list[dict]) -> bool:
        """Move the head to the last of ``rows`` and insert them; False (nothing written) if the
        head was not the one read any more."""
        moved, params = self._moved()
        if one_statement(self.session, rows):
            head = moved.returning(_HEADS.c.chain_key).cte("head")
            inserted = self.session.execute(insert_under(head, _EVENTS, rows), params)
            return inserted.rowcount == len(rows)  # type: ignore[attr-defined]  # an INSERT's
        if self.session.execute(moved, params).rowcount != 1:  # type: ignore[attr-defined]  # DML's
            return False
        self.session.execute(_INSERT_EVENTS, rows)
        return True

    def _moved(self) -> tuple[Insert | Update, dict[str, Any]]:
        """The statement that moves the head and its parameters (each kind of head has its own)."""
        raise NotImplementedError


class _ReadHead(_UnlockedHead):
    """A head read earlier without a lock (with its case): moved by one UPDATE that holds only
    while the head is still the one read, seq and hash alike; otherwise the caller takes the lock
    and links again."""

    def append(self, rows: list[dict]) -> bool:
        if self.session.get_bind().dialect.name != "sqlite":
            return super().append(rows)
        # one INSERT: each event goes in only right after the head, which its trigger then moves
        # to it (migration 0045), so the first event finding the head moved stops them all
        inserted = self.session.execute(_INSERT_AFTER_HEAD, rows).rowcount  # type: ignore[attr-defined]  # DML's
        if inserted and inserted != len(rows):   # a database without the trigger
            raise RuntimeError("the audit chain's head did not follow its events")
        return bool(inserted)

    def _moved(self) -> tuple[Update, dict[str, Any]]:
        return _MOVE_READ_HEAD, {"head_key": self.chain_key, "read_seq": self._read[0],
                                 "read_hash": self._read[1], "new_seq": self.last_seq,
                                 "new_hash": self.last_hash}


class _NewHead(_UnlockedHead):
    """The head of a chain this transaction starts (its case inserted here): its INSERT."""

    def _moved(self) -> tuple[Insert, dict[str, Any]]:
        return insert(_HEADS).values(chain_key=self.chain_key, last_seq=self.last_seq,
                                     last_hash=self.last_hash), {}


# Core inserts and updates of plain rows (a declarative class's __table__ is a Table)
_EVENTS = cast(Table, AuditEvent.__table__)
_HEADS = cast(Table, AuditChainHead.__table__)
# built once, values bound at execution: building the expressions and their cache keys at every
# commit cost more than running them on SQLite
_MOVE_READ_HEAD = (update(_HEADS).where(_HEADS.c.chain_key == bindparam("head_key"),
                                        _HEADS.c.last_seq == bindparam("read_seq"),
                                        _HEADS.c.last_hash == bindparam("read_hash"))
                   .values(last_seq=bindparam("new_seq"), last_hash=bindparam("new_hash")))
_INSERT_EVENTS = _EVENTS.insert()
_EVENT_VALUES = {name: bindparam(name, type_=_EVENTS.c[name].type)
                 for name in ("chain_key", "seq", "case_id", "occurred_at", "actor_type", "actor_id",
                              "actor_role", "actor_department_id", "action", "object_type",
                              "object_id", "key_id", "payload", "prev_hash", "hash")}
# SQLite: an event inserted only if its chain's head is the event before it
_INSERT_AFTER_HEAD = _EVENTS.insert().from_select(
    list(_EVENT_VALUES), select(*_EVENT_VALUES.values()).where(
        exists().where(_HEADS.c.chain_key == _EVENT_VALUES["chain_key"],
                       _HEADS.c.last_seq == _EVENT_VALUES["seq"] - 1,
                       _HEADS.c.last_hash == _EVENT_VALUES["prev_hash"])))


def _object_key(object_id: Any) -> str | Any:
    """Text, or a mapped row kept as it is: a row added but not flushed has no id yet."""
    if object_id is None or hasattr(object_id, "_sa_instance_state"):
        return object_id
    return str(object_id)


def _header(chain: str, seq: int, event: PendingEvent, case_id: int | None, key_id: str) -> dict:
    actor = event.actor
    return {"chain_key": chain, "seq": seq, "case_id": case_id, "occurred_at": event.occurred_at,
            "actor_type": actor.type, "actor_id": actor.id, "actor_role": actor.role,
            "actor_department_id": None if actor.department_id is None else str(actor.department_id),
            "action": event.action, "object_type": event.object_type, "object_id": event.object_text(),
            "key_id": key_id}


def _row_dict(row: AuditEvent) -> dict:
    return {c: getattr(row, c) for c in ("chain_key", "seq", "case_id", "occurred_at", "actor_type",
                                         "actor_id", "actor_role", "actor_department_id", "action",
                                         "object_type", "object_id", "key_id", "payload",
                                         "prev_hash", "hash")}


def chain_rows(session: Session, chain: str) -> Iterator[dict]:
    query = select(AuditEvent).where(AuditEvent.chain_key == chain).order_by(AuditEvent.seq,
                                                                             AuditEvent.id)
    for row in session.scalars(query).yield_per(500):
        yield _row_dict(row)


@dataclass
class VerifyReport:
    """Outcome of verifying one or more chains."""

    chains: int = 0
    events: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    positions: list[tuple[str, int, str]] = field(default_factory=list)  # chains found intact

    @property
    def ok(self) -> bool:
        return not self.breaks


@dataclass(frozen=True)
class ExportedHead:
    """A chain head exported off the chain (checkpoint row or the shipped heads file)."""

    chain_key: str
    seq: int
    hash: str
    source: str


def exported_heads(session: Session, keyring: Keyring, heads_file: Path | None = None, *,
                   shipped: Iterable[tuple[str, list[str]]] = ()
                   ) -> tuple[dict[str, ExportedHead], list[ChainBreak]]:
    """The newest exported head per chain from checkpoint rows, the heads file and ``shipped``
    copies ((name, JSON lines) read back from a sink), each record's MAC checked; a forged record,
    or a shipped checkpoint whose row is gone, is a break."""
    heads: dict[str, ExportedHead] = {}
    breaks: list[ChainBreak] = []
    rows = {c.id: c for c in session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id))}
    for row in rows.values():
        if not verify_checkpoint(keyring, row):
            breaks.append(ChainBreak("checkpoint", row.id, "checkpoint MAC invalid (altered)"))
            continue
        _keep_newest(heads, row.heads, f"checkpoint {row.id}")
    sources = [(heads_file.name, _file_lines(heads_file))] if heads_file is not None else []
    for name, lines in [*sources, *shipped]:
        for number, line in enumerate(lines, start=1):
            source = f"{name} line {number}"
            record = _record(line)
            shipped_row = AuditCheckpoint(taken_at=_parse_time(record.get("taken_at")),
                                          heads=record.get("heads") or {},
                                          mac=record.get("mac") or "")
            if shipped_row.taken_at is None or not verify_checkpoint(keyring, shipped_row):
                breaks.append(ChainBreak("heads-file", number, f"{source}: MAC invalid (altered)"))
                continue
            if record.get("id") is not None and record["id"] not in rows:
                breaks.append(ChainBreak("checkpoint", record["id"],
                                         f"checkpoint row deleted (still in {source})"))
            _keep_newest(heads, shipped_row.heads, source)
    return heads, breaks


def _keep_newest(heads: dict[str, ExportedHead], record: dict, source: str) -> None:
    for chain, (seq, digest) in (record or {}).items():
        if chain not in heads or int(seq) >= heads[chain].seq:
            heads[chain] = ExportedHead(chain, int(seq), digest, source)


def _file_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _record(line: str) -> dict:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return {}  # counted, and refused as an unverifiable record
    return record if isinstance(record, dict) else {}


def _parse_time(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def _exported_breaks(session: Session, exported: dict[str, ExportedHead],
                     names: list[str] | None) -> list[ChainBreak]:
    """Every exported head must still be an event of its chain with the same hash (looked up
    a few hundred at a time)."""
    breaks = []
    wanted = sorted(chain for chain in exported if names is None or chain in names)
    for offset in range(0, len(wanted), 500):
        part = wanted[offset:offset + 500]
        stored = dict(session.execute(
            select(AuditEvent.chain_key, AuditEvent.hash).where(
                tuple_(AuditEvent.chain_key, AuditEvent.seq).in_(
                    [(chain, exported[chain].seq) for chain in part]))).all())
        for chain in part:
            head = exported[chain]
            if stored.get(chain) != head.hash:
                what = "missing" if chain not in stored else "different"
                breaks.append(ChainBreak(chain, head.seq, f"exported head ({head.source}) is "
                                                          f"{what}: events deleted or rewritten since"))
    return breaks


def verify_chains(session: Session, keyring: Keyring, chains: list[str] | None = None, *,
                  heads_file: Path | None = None, shipped: Iterable[tuple[str, list[str]]] = (),
                  objects: bool = False, workers: int | None = 1) -> VerifyReport:
    """Verify every (or the given) chain: sequence, links, HMACs, the head row, and every head
    exported to checkpoints, the heads file and ``shipped`` copies (so a deleted tail is caught).

    Every chain is one ordered stream (``workers`` processes on a large database, None: one per
    core); the given chains are read one by one.
    ``objects`` (with every chain): also every case, user, token and process version must still
    have its record (``workflows.audit.coverage``), so a chain deleted with its head is caught.
    Every chain: read in one snapshot (``bulk_verify.snapshot``)."""
    if chains is None:
        snapshot(session)
    exported, export_breaks = exported_heads(session, keyring, heads_file, shipped=shipped)
    report = VerifyReport()
    if chains is None:
        streamed = verify_all(session, keyring, workers=workers)
        report.chains, report.events, report.breaks = streamed.chains, streamed.events, streamed.breaks
        report.positions = streamed.positions
        report.breaks += _exported_breaks(session, exported, None)
        report.breaks += export_breaks
        if objects:
            report.breaks += missing_records(session, streamed.facts)
        return report
    heads = {h.chain_key: (h.last_seq, h.last_hash) for h in session.scalars(
        select(AuditChainHead).where(AuditChainHead.chain_key.in_(chains)))}

    def key_for(key_id: str) -> bytes | None:
        try:
            return keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
        except UnknownKey:
            return None

    for chain in chains:
        count, broken = verify_chain(chain, chain_rows(session, chain), key_for,
                                     head=heads.get(chain, (0, GENESIS)))
        report.chains += 1
        report.events += count
        if broken is not None:
            report.breaks.append(broken)
    report.breaks += _exported_breaks(session, exported, chains)
    return report
