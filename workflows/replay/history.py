"""Auditor read models: a case's history with filters (state at an event: workflows.replay.steps).

Personal-data access log and chain status live in ``workflows.replay.access_log``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, OutboxMessage, ProcessVersion
from workflows.assistant.flags import FLAG_LABELS
from workflows.audit.log import AuditAction
from workflows.audit.words import EVENT_WORDS
from workflows.cases.lookup import find_case
from workflows.cases.parties import PURPOSES, RECORDED_PURPOSES
from workflows.cases.timeline import project_payload
from workflows.deadlines.escalation import LIMIT_ZH
from workflows.district.units import unit_names_in
from workflows.library.contract import MEDIATOR_KEY
from workflows.library.elements import task_words
from workflows.library.graph import field_words, process_names
from workflows.models import RISK_LABELS, Department, Room, User
from workflows.models.words import (
    NOTICE_KIND_WORDS,
    REVIEW_STATE_WORDS,
    WORK_ORDER_ROLE_WORDS,
    WORK_ORDER_STATUS_WORDS,
)
from workflows.replay.case_replay import case_events
from workflows.replay.engine import START_ACTIONS, RecordedEvent
from workflows.replay.session_words import SESSION_EVENTS
from workflows.runtime.bootstrap import Services

# What the filter calls a "kind" of event; actions not listed fall into "other".
KINDS = {
    "case": "案件", "task": "任务状态", "submission": "表单提交", "timer": "定时器",
    "message": "消息", "escalation": "升级督办", "return": "退回", "deploy": "流程部署",
    "migration": "版本迁移", "notification": "通知", "personal_data": "个人信息查看",
    "denied": "拒绝访问", "replay": "复核", "other": "其他",
}
_KIND_OF = {
    "task_state_changed": "task", "engine_step": "task", "task_completed": "submission", "task_claimed": "task",
    "task_released": "task", "timer_fired": "timer", "message_received": "message",
    "process_deployed": "deploy", "instance_migrated": "migration", "results_merged": "task",
    "notification_queued": "notification", "outbox_failed": "notification",
    "party_viewed": "personal_data", "party_unmasked": "personal_data",
    "case_exported": "personal_data", "access_denied": "denied", "case_replayed": "replay",
}
TITLES = {
    "case_opened": "立案", "case_updated": "案件信息变更", "case_closed": "结案",
    "case_reopened": "重新办理", "task_state_changed": "任务状态变化", "engine_step": "流程推进",
    "task_completed": "提交表单",
    "task_claimed": "认领任务", "task_released": "释放任务", "timer_fired": "定时器触发",
    "message_received": "收到消息", "instance_migrated": "迁移到新流程版本",
    "instance_started": "启动流程实例", "process_deployed": "部署流程版本",
    "work_order_changed": "工单变更", "risk_changed": "风险等级变更",
    "party_registered": "登记当事人", "party_viewed": "查看当事人（脱敏）",
    "party_unmasked": "显示当事人完整信息", "access_denied": "拒绝访问",
    "notification_queued": "通知排队", "outbox_failed": "通知发送失败", "incident_raised": "异常",
    "case_replayed": "复核重放", "case_exported": "导出案卷", "sla_changed": "时限变更",
    "data_corrected": "数据更正", "notification_sent": "通知已发送",
    "results_merged": "补收协办结果",
}
NOTIFICATION_SENT = "notification_sent"   # a row of the outbox, not an audit event
OUTBOX = "outbox"                         # where such a row comes from (no chain of its own)
HIDDEN_VALUE = "（内容仅审计员可见）"
# an element without a name (an end event, a gateway) is named by its kind (library/elements);
# the engine's bookkeeping steps (its start task, joins) by this
ENGINE_STEP = "流程内部步骤"
# data fields that name a person (a user id, or an account) or a mediation room (its code): the
# history names them as a form's options name its codes (``named_values``)
PERSON_FIELDS = (MEDIATOR_KEY,)
ROOM_FIELDS = ("room_code",)
STATE_NAMES = {"READY": "就绪", "WAITING": "等待", "STARTED": "进行中", "COMPLETED": "完成",
               "CANCELLED": "取消", "ERROR": "出错", "FUTURE": "待定", "LIKELY": "可能",
               "MAYBE": "也许"}


def kind_of(action: str, payload: dict | None = None) -> str:
    """The filter kind of an event (escalations and returns are recognised by name and payload)."""
    if "escalat" in action or (payload or {}).get("escalated"):
        return "escalation"
    if "return" in action or (payload or {}).get("status") == "returned":
        return "return"
    if action in _KIND_OF:
        return _KIND_OF[action]
    return "case" if action.startswith("case_") else "other"


@dataclass
class HistoryFilter:
    """Filters of the case history page; empty means 'all'."""

    kinds: frozenset[str] = frozenset()
    actor: str | None = None          # actor id, account or name
    department: str | None = None     # department id
    since: datetime | None = None
    until: datetime | None = None
    engine_steps: bool = False        # the engine's own transitions (start, gateways, joins)

    def accepts(self, entry: HistoryEntry) -> bool:
        return ((self.engine_steps or not entry.engine)
                and (not self.kinds or entry.kind in self.kinds)
                and (not self.actor or self.actor in (entry.actor_id, entry.account,
                                                      entry.actor_name))
                and (not self.department or self.department == entry.department_id)
                and (self.since is None or entry.occurred_at >= self.since)
                and (self.until is None or entry.occurred_at <= self.until))


@dataclass
class HistoryEntry:
    """One line of the timeline."""

    seq: int | None
    chain: str
    occurred_at: datetime
    action: str
    kind: str
    title: str
    detail: str
    actor_type: str | None
    actor_id: str | None
    actor_name: str
    role: str | None
    department_id: str | None
    object: str
    payload: dict
    changes: list[dict] = field(default_factory=list)
    hash: str = ""
    is_input: bool = False
    order: int = 0
    engine: bool = False              # a transition people did not cause nor wait for
    transition: int | None = None     # place within its engine step (one seq, several lines)
    account: str | None = None        # the user's login name: the filter's, never shown in a row
    unit: str | None = None           # the name of the unit the actor acted for

    @property
    def local_time(self) -> str:
        return self.occurred_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")


def changes_of(payload: dict) -> list[dict]:
    """Readable before/after lines of a form submission or a completed task."""
    before, after = payload.get("data_before"), payload.get("data_after")
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after), key=str)
        return [{"key": k, "before": before.get(k), "after": after.get(k)} for k in keys
                if before.get(k) != after.get(k)]
    submitted = payload.get("submitted")
    if isinstance(submitted, dict):
        return [{"key": k, "before": None, "after": v} for k, v in sorted(submitted.items())]
    return []


def version_of(payload: dict, side: str) -> Any:
    """Version id of an instance_migrated side ('from'/'to'): flat ``to_version_id`` or {version_id}."""
    ref = payload.get(side)
    return payload.get(f"{side}_version_id") or (ref.get("version_id") if isinstance(ref, dict)
                                                  else ref)


def describe(event: RecordedEvent, processes: dict[str, tuple[str, int]] | None = None,
             units: Mapping[str, str] | None = None) -> str:
    """A one-line Chinese description of what the event says; ``processes``: version id ->
    (process name, version number) of the versions the case ran on; ``units``: unit id -> name
    (the units a work order or a 督办单 went to)."""
    p, action = event.payload, event.action
    if action in CODED_EVENTS:
        return CODED_EVENTS[action](p, units or {})
    if action == "task_state_changed":
        name = p.get("bpmn_name") or task_words(p.get("type")) or ENGINE_STEP
        old, new = STATE_NAMES.get(p.get("from") or "", p.get("from") or "新建"), STATE_NAMES.get(
            p.get("to") or "", p.get("to"))
        return f"{name}：{old} → {new}"
    if action == "task_completed":
        index = p.get("instance_index")
        suffix = f" #{index + 1}" if isinstance(index, int) else ""
        return f"{p.get('task_name') or p.get('bpmn_id')}{suffix}"
    if action == "timer_fired":
        return "、".join(str(t) for t in p.get("timers") or []) or "到期定时器"
    if action == "message_received":
        return str(p.get("name", ""))
    if action == "instance_migrated":
        old, new = ((processes or {}).get(str(version_of(p, side)), (None, version_of(p, side)))[1]
                    for side in ("from", "to"))
        return f"版本 {old} → {new}：{p.get('reason', '')}"
    if action in ("party_unmasked", "party_viewed"):
        purpose = p.get("purpose")
        words = {**PURPOSES, **RECORDED_PURPOSES}.get(purpose, purpose) if purpose else "—"
        party = f"当事人 {p['party_id']} " if p.get("party_id") else ""
        return f"{party}用途：{words}"
    if action == "access_denied":
        return f"{p.get('path') or p.get('object') or ''} 规则：{p.get('rule', '')}"
    if action == AuditAction.CASE_UPDATED and p.get("change") == "document_generated":
        return str(p.get("title") or "")
    if action == "case_replayed":
        return str(p.get("summary", p.get("result", "")))
    if action in START_ACTIONS:
        name, number = (processes or {}).get(str(p.get("process_version_id")), (None, None))
        return (f"流程 {name or p.get('process_id', '')}"
                f"（版本 {number or p.get('process_version_id', '')}）")
    return ""


def _words(table: Mapping[str, str], code: Any) -> str:
    return table.get(str(code), str(code)) if code not in (None, "") else "—"


def _unit(payload: dict, units: Mapping[str, str]) -> str:
    unit = payload.get("department_id")
    return units.get(str(unit), "") if unit is not None else ""


def _work_order(p: dict, units: Mapping[str, str]) -> str:
    role = WORK_ORDER_ROLE_WORDS.get(str(p.get("role")))
    who = f"{_unit(p, units) or '工单'}{f'（{role}）' if role else ''}"
    return (f"{who}：{_words(WORK_ORDER_STATUS_WORDS, p.get('before'))} → "
            f"{_words(WORK_ORDER_STATUS_WORDS, p.get('after'))}")


def _risk(p: dict, units: Mapping[str, str]) -> str:
    if "before" in p:
        return f"风险等级：{_words(RISK_LABELS, p.get('before'))} → {_words(RISK_LABELS, p.get('after'))}"
    return f"上报{_words(RISK_LABELS, p.get('reported'))}风险，现为{_words(RISK_LABELS, p.get('after'))}"


def _supervision(p: dict, units: Mapping[str, str]) -> str:
    limit = LIMIT_ZH.get(str(p.get("source") or "").split(":")[-1])
    to = _unit(p, units)
    return (f"{_words(NOTICE_KIND_WORDS, p.get('kind'))}{f' → {to}' if to else ''}"
            f"{f'（{limit}）' if limit else ''}")


def _flags(p: dict) -> str:
    return "、".join(FLAG_LABELS.get(str(code), str(code)) for code in p.get("flags") or []) or "—"


# the events whose payload is codes only: their line in words (never a free text: supervisors
# read these lines too)
CODED_EVENTS: dict[str, Callable[[dict, Mapping[str, str]], str]] = {
    AuditAction.WORK_ORDER_CHANGED: _work_order,
    AuditAction.RISK_CHANGED: _risk,
    AuditAction.SUPERVISION_ISSUED: _supervision,
    AuditAction.RED_FLAG_RAISED: lambda p, units: f"须人工复核：{_flags(p)}",
    AuditAction.RED_FLAG_REVIEWED:
        lambda p, units: f"{_words(REVIEW_STATE_WORDS, p.get('outcome'))}：{_flags(p)}",
    **SESSION_EVENTS,
}


@dataclass(frozen=True)
class Person:
    """A user as the audit pages name them: by name in every row (with the role and unit the
    event recorded); the account only where one event is looked at (and for the filters)."""

    name: str
    account: str


def people(session: Session, ids: Iterable[str | None]) -> dict[str, Person]:
    """User id (as an event keeps it) -> the user's name and account."""
    numeric = [int(i) for i in ids if i and i.isdigit()]
    if not numeric:
        return {}
    rows = session.execute(select(User.id, User.display_name, User.username)
                           .where(User.id.in_(numeric))).all()
    return {str(r.id): Person(r.display_name, r.username) for r in rows}


def unit_names(session: Session, ids: Iterable[str | None]) -> dict[str, str]:
    """Unit id (as an event keeps the actor's) -> the unit's name."""
    numeric = [int(i) for i in ids if i and i.isdigit()]
    if not numeric:
        return {}
    rows = session.execute(select(Department.id, Department.name)
                           .where(Department.id.in_(numeric))).all()
    return {str(r.id): r.name for r in rows}


def named_values(session: Session, values: Mapping[str, Iterable[Any]]) -> dict[str, dict[str, str]]:
    """What the people and rooms a case's data names are called: field -> value -> name, for
    the fields ``PERSON_FIELDS`` (a user id or account -> the person's name) and ``ROOM_FIELDS``
    (a room code -> the room's name); merged into the forms' options, so every reader of those
    names the mediator and the room, never 89 or RM-DH-01."""
    named: dict[str, dict[str, str]] = {}
    for key, found in values.items():
        texts = {str(v) for v in found if isinstance(v, str | int) and not isinstance(v, bool)
                 and str(v).strip()}
        if not texts:
            continue
        if key in PERSON_FIELDS:
            ids = [int(t) for t in texts if t.isdigit()]
            rows = session.execute(select(User.id, User.username, User.display_name).where(
                or_(User.id.in_(ids), User.username.in_(sorted(texts))))).all()
            named[key] = {text: row.display_name for row in rows
                          for text in (str(row.id), row.username) if text in texts}
        elif key in ROOM_FIELDS:
            named[key] = dict(session.execute(select(Room.code, Room.name)
                                              .where(Room.code.in_(sorted(texts)))).all())
    return named


def data_names(session: Session, data: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``named_values`` for one state of the process data."""
    return named_values(session, {key: _values(data.get(key))
                                  for key in (*PERSON_FIELDS, *ROOM_FIELDS) if key in data})


def title_of(event: RecordedEvent) -> str:
    """What a line calls its event: the history's own word, a case change named by itself
    (生成文书), else the pages' word for the action (audit/words.py)."""
    change = event.payload.get("change") if event.action == AuditAction.CASE_UPDATED else None
    if isinstance(change, str) and change in EVENT_WORDS:
        return EVENT_WORDS[change]
    return TITLES.get(event.action) or EVENT_WORDS.get(event.action, event.action)


def _entry(event: RecordedEvent, chain: str, names: dict[str, Person], units: dict[str, str],
           raw: bool = True, processes: dict[str, tuple[str, int]] | None = None) -> HistoryEntry:
    actor_id = event.actor_id
    payload, changes = event.payload, changes_of(event.payload)
    if not raw:   # supervisors: which fields changed, never their values (may be free text)

        payload = project_payload(event.payload)
        changes = [{"key": c["key"], "before": None, "after": HIDDEN_VALUE} for c in changes]
    person = names.get(actor_id or "")
    obj = f"{event.object_type or ''} {event.object_id or ''}".strip()
    acting = units.get(event.actor_department_id or "")
    return HistoryEntry(
        seq=event.seq if chain.startswith("case:") else None, chain=chain,
        occurred_at=event.occurred_at, action=event.action,
        kind=kind_of(event.action, event.payload), title=title_of(event),
        detail=describe(event, processes, units), actor_type=event.actor_type, actor_id=actor_id,
        actor_name=person.name if person else actor_id or event.actor_type or "",
        role=event.actor_role, department_id=event.actor_department_id, object=obj,
        payload=payload, changes=changes, hash=event.hash,
        is_input=event.is_input, order=event.id or 0, engine=engine_step(event),
        transition=event.transition, account=person.account if person else None,
        unit=acting)


# what people work on or wait for; every other task type is the engine's bookkeeping
PEOPLE_STEPS = {"UserTask", "ManualTask", "BoundaryEvent", "IntermediateCatchEvent",
                "ReceiveTask", "CallActivity", "SubWorkflowTask", "EndEvent"}
SPECULATIVE = {"FUTURE", "LIKELY", "MAYBE"}    # a step only predicted (maybe later)


def engine_step(event: RecordedEvent) -> bool:
    """An engine-internal transition: a start, gateway or join, or a step only predicted."""
    if event.action != "task_state_changed":
        return False
    p = event.payload
    return p.get("type") not in PEOPLE_STEPS or p.get("to") in SPECULATIVE


def _related_rows(session: Session, case_id: int,
                  version_ids: set[str]) -> list[tuple[str, RecordedEvent]]:
    """Events of other chains about this case: denials, reveals, deploys of its versions."""
    query = select(AuditEvent).where(
        AuditEvent.chain_key != f"case:{case_id}",
        or_(AuditEvent.case_id == case_id,
            (AuditEvent.action == AuditAction.PROCESS_DEPLOYED)
            & AuditEvent.object_id.in_(version_ids or {"-"})))
    return [(row.chain_key, RecordedEvent.from_model(row)) for row in session.scalars(query)]


def _notifications(session: Session, case_id: int) -> list[HistoryEntry]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id,
                                                       OutboxMessage.status == "sent"))
    return [HistoryEntry(None, OUTBOX, row.sent_at or row.created_at, NOTIFICATION_SENT,
                         "notification", TITLES[NOTIFICATION_SENT],
                         f"{row.channel} · {row.template} → {row.recipient_type}", "system", None,
                         "outbox", None, None, f"outbox {row.id}",
                         {"template": row.template, "channel": row.channel,
                          "recipient_type": row.recipient_type},
                         order=10**15 + row.id)
            for row in rows]


def _versions(events: list[RecordedEvent]) -> set[str]:
    return {str(e.payload.get("process_version_id") or version_of(e.payload, "to"))
            for e in events if e.action in (*START_ACTIONS, "instance_migrated")}


def case_versions(services: Services, case_no: str) -> set[int]:
    """Ids of the process versions the case ran on (started on or migrated to)."""
    with services.session_factory() as session:
        case = find_case(session, case_no)
        found = _versions(case_events(session, case.id))
    return {int(v) for v in found if v.isdigit()}


def _values(value: Any) -> list[Any]:
    """The plain values within a changed value (a list's items, a record's fields' values)."""
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    return [value]


def case_history(services: Services, case_no: str, filters: HistoryFilter | None = None, *,
                 raw: bool = True) -> dict:
    """Every event of a case (its chain, related system events, notifications sent), filtered;
    ``raw=False`` (non-auditors) keeps payload values out: allow-listed keys and field names."""
    filters = filters or HistoryFilter()
    with services.session_factory() as session:
        case = find_case(session, case_no)
        events = case_events(session, case.id)
        versions = _versions(events)
        related = _related_rows(session, case.id, versions)
        everyone = [*events, *(e for _, e in related)]
        names = people(session, {e.actor_id for e in everyone})
        units = unit_names(session, {e.actor_department_id for e in everyone}
                           | {str(e.payload.get("department_id")) for e in everyone
                              if e.action in CODED_EVENTS})
        labels: dict[str, str] = {}
        options: dict[str, dict[str, str]] = {}
        processes: dict[str, tuple[str, int]] = {}
        for version in session.scalars(select(ProcessVersion).where(
                ProcessVersion.id.in_([int(v) for v in versions if str(v).isdigit()]))):
            named, coded = field_words(version.source_files or {})
            labels, options = {**named, **labels}, {**coded, **options}
            processes[str(version.id)] = (process_names(version.source_files or {}).get(
                version.process_id) or version.process_id, version.version)
        entries = [_entry(e, f"case:{case.id}", names, units, raw, processes) for e in events]
        entries += [_entry(e, chain, names, units, raw, processes) for chain, e in related]
        entries += _notifications(session, case.id)
        changed = [v for e in entries for c in e.changes for k in ("before", "after")
                   for v in _values(c[k])]
        units = unit_names_in(session, {"changed": changed})
        options = {**options, **named_values(session, {
            key: [v for e in entries for c in e.changes if c["key"] == key
                  for side in ("before", "after") for v in _values(c[side])]
            for key in (*PERSON_FIELDS, *ROOM_FIELDS)})}
    entries.sort(key=lambda e: (e.occurred_at, e.order))
    shown = [e for e in entries if filters.accepts(e)]
    acting = sorted({(e.department_id, e.unit) for e in entries if e.department_id and e.unit},
                    key=lambda pair: pair[1])   # the units people acted for: the unit filter's
    return {"case_no": case.case_no, "case_id": case.id, "summary": case.summary,
            "status": case.status, "entries": shown, "total": len(entries),
            "kinds": sorted({e.kind for e in entries}), "versions": sorted(versions - {"None"}),
            "labels": labels, "options": options, "units": units, "acting_units": acting}
