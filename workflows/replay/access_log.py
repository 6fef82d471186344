"""Personal-data access log (reveals, exports, denials) and whole-database chain status."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from workflows.audit.bulk_verify import verify_since_last
from workflows.audit.checkpoints import heads_path
from workflows.audit.coverage import SYSTEM_CHAIN
from workflows.audit.log import AuditAction, VerifyReport, verify_chains
from workflows.models import Case, Party
from workflows.replay.engine import RecordedEvent
from workflows.replay.history import Person, people, unit_names
from workflows.runtime.bootstrap import Services

ACCESS_ACTIONS = (AuditAction.PARTY_UNMASKED, AuditAction.PARTY_VIEWED, AuditAction.CASE_EXPORTED,
                  AuditAction.ACCESS_DENIED, AuditAction.NARRATIVE_UNMASKED,
                  AuditAction.PARTIES_SEARCHED, AuditAction.AUDIT_PAYLOADS_READ,
                  AuditAction.REPORT_DOWNLOADED)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class AccessEntry:
    """One reveal, view, export or denial."""

    occurred_at: datetime
    action: str
    actor_id: str | None
    actor_name: str
    role: str | None
    party_id: str | None
    case_id: int | None
    purpose: str | None
    detail: str
    flagged: bool = False
    account: str | None = None        # the user's login name: the filter's, not the rows'
    unit: str | None = None           # the name of the unit the actor acted for

    @property
    def day(self) -> str:
        return self.occurred_at.astimezone(SHANGHAI).date().isoformat()

    @property
    def local_time(self) -> str:
        return self.occurred_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class AccessLog:
    """Entries plus the by-user and by-citizen summaries and the volume alerts."""

    entries: list[AccessEntry] = field(default_factory=list)
    by_user: list[dict] = field(default_factory=list)
    by_party: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    limit: int = 0
    case_numbers: dict[int, str] = field(default_factory=dict)
    search_alerts: list[dict] = field(default_factory=list)   # too many searches in one hour
    search_limit: int = 0


def _detail(event: RecordedEvent) -> str:
    p = event.payload
    if event.action == AuditAction.ACCESS_DENIED:
        return " ".join(str(x) for x in (p.get("method"), p.get("path") or p.get("object"),
                                         p.get("rule"), p.get("reason")) if x)
    if event.action == AuditAction.CASE_EXPORTED:
        return f"{p.get('format', '')} · {p.get('events', '')} 条事件"
    if event.action == AuditAction.PARTIES_SEARCHED:
        return (f"{'、'.join(p.get('kinds') or [])} · {p.get('results', 0)} 个结果"
                f"（{p.get('out_of_scope', 0)} 个不在权限内）")
    fields = p.get("fields")
    return "、".join(fields) if isinstance(fields, list) else str(fields or "")


def access_log(services: Services, *, since: datetime | None = None, until: datetime | None = None,
               user: str | None = None, party: str | None = None) -> AccessLog:
    """Every access to personal data in the window (default: the last 30 days), with summaries."""
    until = until or services.clock.now()
    since = since or until - timedelta(days=30)
    limit = services.settings.reveal_alert_per_day
    with services.session_factory() as session:
        rows = session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_([str(a) for a in ACCESS_ACTIONS]),
            AuditEvent.occurred_at >= since, AuditEvent.occurred_at <= until)
            .order_by(AuditEvent.occurred_at, AuditEvent.id)).all()

        events = [(row.case_id, RecordedEvent.from_model(row)) for row in rows]
        names = people(session, {e.actor_id for _, e in events})
        units = unit_names(session, {e.actor_department_id for _, e in events})
        entries = [_access_entry(case_id, e, names, units) for case_id, e in events]
        log = AccessLog(limit=limit, search_limit=services.settings.search_alert_per_hour)
        log.case_numbers = _case_numbers(session, {e.case_id for e in entries if e.case_id})
        _summarise(log, entries, _party_labels(session, {e.party_id for e in entries}))
        log.search_alerts = _search_alerts(entries, log.search_limit)
    log.entries = [e for e in entries
                   if (not user or user in (e.actor_id, e.account, e.actor_name))
                   and (not party or party == e.party_id)]
    return log


def _access_entry(case_id: int | None, event: RecordedEvent, names: dict[str, Person],
                  units: dict[str, str]) -> AccessEntry:
    p = event.payload
    party_id = p.get("party_id") or (event.object_id if event.object_type == "party" else None)
    person = names.get(event.actor_id or "")
    return AccessEntry(event.occurred_at, event.action, event.actor_id,
                       person.name if person else event.actor_id or event.actor_type or "",
                       event.actor_role, party_id, case_id, p.get("purpose"), _detail(event),
                       account=person.account if person else None,
                       unit=units.get(event.actor_department_id or ""))


def _summarise(log: AccessLog, entries: list[AccessEntry], parties: dict[str, str]) -> None:
    reveals = Counter((e.actor_id, e.day) for e in entries if e.action == AuditAction.PARTY_UNMASKED)
    over = {key: n for key, n in reveals.items() if n > log.limit}
    users: dict[str, Counter] = defaultdict(Counter)
    people: dict[str, dict] = {}
    for e in entries:
        e.flagged = e.action == AuditAction.PARTY_UNMASKED and (e.actor_id, e.day) in over
        users[e.actor_id or ""][e.action] += 1
        users[e.actor_id or ""]["_name:" + e.actor_name] = 1
        if e.party_id:
            who = people.setdefault(e.party_id, {"party_id": e.party_id, "label": parties.get(
                e.party_id, e.party_id), "reveals": 0, "views": 0, "users": set()})
            who["reveals" if e.action == AuditAction.PARTY_UNMASKED else "views"] += 1
            who["users"].add(e.actor_name)
    for actor_id, counts in sorted(users.items()):
        name = next((k[6:] for k in counts if str(k).startswith("_name:")), actor_id)
        log.by_user.append({
            "actor_id": actor_id, "name": name, "reveals": counts[AuditAction.PARTY_UNMASKED],
            "views": counts[AuditAction.PARTY_VIEWED], "exports": counts[AuditAction.CASE_EXPORTED],
            "denied": counts[AuditAction.ACCESS_DENIED],
            "flagged_days": sorted(day for (a, day) in over if a == actor_id)})
    log.by_party = sorted(({**p, "users": sorted(p["users"])} for p in people.values()),
                          key=lambda p: (-p["reveals"], p["party_id"]))
    log.alerts = [{"actor_id": a, "name": next((u["name"] for u in log.by_user
                                                if u["actor_id"] == a), a), "day": d, "count": n}
                  for (a, d), n in sorted(over.items(), key=lambda kv: (kv[0][1], str(kv[0][0])))]


def _search_alerts(entries: list[AccessEntry], limit: int) -> list[dict]:
    """Users who searched by ID number or phone more than ``limit`` times in one hour."""
    counts = Counter((e.actor_id, e.actor_name, e.occurred_at.astimezone(SHANGHAI)
                      .strftime("%Y-%m-%d %H:00")) for e in entries
                     if e.action == AuditAction.PARTIES_SEARCHED)
    return [{"actor_id": a, "name": name, "hour": hour, "count": n}
            for (a, name, hour), n in sorted(counts.items(), key=lambda kv: kv[0][2]) if n > limit]


def _party_labels(session: Session, ids: set[str | None]) -> dict[str, str]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    rows = session.execute(select(Party.id, Party.masked).where(Party.id.in_(wanted))).all()
    return {r.id: (r.masked or {}).get("name") or r.id for r in rows}


def _case_numbers(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Case.id, Case.case_no).where(Case.id.in_(ids))).all())


# -- chain status --------------------------------------------------------------------------------
def chain_status(services: Services, chains: list[str] | None = None, *,
                 incremental: bool = False) -> dict:
    """Verify every chain (or the given ones) against itself and its exported heads, and (every
    chain) that every case and system object still has its record; name each break.

    ``incremental``: only the events appended since the signed positions of the last saved run
    (the nightly check), read-only — what the auditors' page shows by default."""
    with services.session_factory() as session:
        if incremental:
            part = verify_since_last(session, services.keyring)
            report = VerifyReport(chains=part.chains, events=part.events, breaks=part.breaks)
        else:
            report = verify_chains(session, services.keyring, chains,
                                   heads_file=heads_path(services.settings),
                                   objects=chains is None)
        breaks: list[dict[str, Any]] = [{"chain": b.chain_key, "seq": b.seq, "reason": b.reason}
                                        for b in report.breaks]
        ids = {int(b["chain"].split(":", 1)[1]) for b in breaks if b["chain"].startswith("case:")}
        numbers = _case_numbers(session, ids)
    for b in breaks:
        b["case_no"] = numbers.get(int(b["chain"][5:])) if b["chain"].startswith("case:") else None
        b["label"] = f"案件 {b['case_no']}" if b.get("case_no") else b["chain"]
    return {"ok": not breaks, "chains": report.chains, "events": report.events, "breaks": breaks,
            "first": breaks[0] if breaks else None, "incremental": incremental,
            "last_run": last_verification(services) if incremental else None}


def last_verification(services: Services) -> dict | None:
    """The newest saved verification run (mode, when, chains, events, breaks)."""
    with services.session_factory() as session:
        row = session.execute(
            select(AuditEvent.occurred_at, AuditEvent.payload)
            .where(AuditEvent.chain_key == SYSTEM_CHAIN,
                   AuditEvent.action == AuditAction.AUDIT_VERIFIED)
            .order_by(AuditEvent.id.desc()).limit(1)).first()
    if row is None:
        return None
    payload = json.loads(row.payload)
    return {"at": row.occurred_at, "mode": payload.get("mode"), "chains": payload.get("chains"),
            "events": payload.get("events"), "breaks": payload.get("breaks")}
