"""Case-file export for an external review: JSON events with chain hashes, verifiable offline.

The JSON file is canonical JSON (sorted keys, no spaces), so any changed byte either breaks the
canonical form, the document MAC or an event's chain hash. ``verify_export`` needs only the file
and the keys file (the audit HMAC keys named by ``key_id``), not the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from engine.audit_chain import GENESIS, HEADER_FIELDS, canonical_json, verify_chain
from engine.crypto import KeyPurpose, Keyring, UnknownKey
from engine.models import AuditChainHead, AuditCheckpoint, AuditEvent
from workflows.audit.log import AuditAction, verify_chains
from workflows.cases.lookup import find_case
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput
from workflows.models import Role
from workflows.replay.export_html import render_report
from workflows.replay.history import case_history
from workflows.runtime.bootstrap import Services

EXPORT_FORMAT = "jiefen.case-export/1"
ALGORITHM = "HMAC-SHA256"
# why a case file leaves the system (every export needs the export permission and a purpose);
# the file holds every raw payload, so only auditors export (policy Permission.EXPORT_AUDIT)
EXPORT_PURPOSES = {
    "external_review": "外部审查/复核",
    "complaint_investigation": "投诉调查",
    "legal_request": "司法/监察机关依法调取",
    "internal_audit": "内部审计",
}


def _plain(value: Any) -> Any:
    """Header values exactly as canonical_json renders them (datetimes as UTC ...Z strings)."""
    return json.loads(canonical_json(value))


def _event(row: AuditEvent) -> dict:
    out = {name: _plain(getattr(row, name)) for name in HEADER_FIELDS}
    out.update(payload=row.payload, prev_hash=row.prev_hash, hash=row.hash)
    return out


def build_export(services: Services, case_no: str, actor: Actor) -> dict:
    """The export document of one case (every event of its chain, head, latest checkpoint, MAC)."""
    with services.session_factory() as session:
        case = find_case(session, case_no)
        chain = f"case:{case.id}"
        rows = session.scalars(select(AuditEvent).where(AuditEvent.chain_key == chain)
                               .order_by(AuditEvent.seq, AuditEvent.id)).all()
        head = session.get(AuditChainHead, chain)
        check = verify_chains(session, services.keyring, [chain])
        checkpoint = session.scalars(select(AuditCheckpoint)
                                     .order_by(AuditCheckpoint.taken_at.desc()).limit(1)).first()
        events = [_event(row) for row in rows]
        doc = {
            "format": EXPORT_FORMAT, "algorithm": ALGORITHM, "chain": chain,
            "case": {"case_no": case.case_no, "id": case.id, "summary": case.summary,
                     "status": case.status},
            "exported_at": _plain(services.clock.now()),
            "exported_by": {"type": actor.type, "id": actor.id, "username": actor.username,
                            "role": actor.role},
            "events": events, "key_ids": sorted({e["key_id"] for e in events}),
            "head": {"seq": head.last_seq, "hash": head.last_hash} if head else
            {"seq": 0, "hash": GENESIS},
            "checkpoint": _checkpoint_head(checkpoint, chain),
            "verified_at_export": {"ok": check.ok, "breaks": [str(b) for b in check.breaks]},
        }
    return sign(doc, services.keyring)


def _checkpoint_head(checkpoint: AuditCheckpoint | None, chain: str) -> dict | None:
    if checkpoint is None or chain not in (checkpoint.heads or {}):
        return None
    seq, digest = checkpoint.heads[chain]
    return {"taken_at": _plain(checkpoint.taken_at), "seq": int(seq), "hash": digest}


def _mac(keyring: Keyring, key_id: str, doc: dict) -> str:
    body = canonical_json({k: v for k, v in doc.items() if k != "mac"}).encode("utf-8")
    return hmac.new(keyring.key(KeyPurpose.AUDIT_HMAC, key_id), body, hashlib.sha256).hexdigest()


def sign(doc: dict, keyring: Keyring) -> dict:
    """Add the document MAC (covers everything but itself) with the primary audit key."""
    key_id = keyring.primary_id(KeyPurpose.AUDIT_HMAC)
    return {**doc, "mac": {"key_id": key_id, "value": _mac(keyring, key_id, doc)}}


def export_bytes(doc: dict) -> bytes:
    """The file content: canonical JSON, UTF-8."""
    return canonical_json(doc).encode("utf-8")


@dataclass
class ExportCheck:
    """Result of verifying an exported file."""

    ok: bool
    events: int = 0
    reason: str = ""
    seq: int | None = None
    case_no: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"OK case {self.case_no}: {self.events} events, chain and signature verified"
        where = f" at seq {self.seq}" if self.seq is not None else ""
        return f"FAILED{where}: {self.reason}"


def verify_export(data: bytes | str | dict, keyring: Keyring) -> ExportCheck:
    """Check canonical form, document MAC, every chain link and HMAC, and the head."""
    doc, problem = _parse(data)
    if problem:
        return ExportCheck(False, reason=problem)
    case_no = (doc.get("case") or {}).get("case_no")
    mac = doc.get("mac") or {}
    try:
        expected = _mac(keyring, str(mac.get("key_id")), doc)
    except UnknownKey:
        return ExportCheck(False, reason=f"unknown audit key {mac.get('key_id')!r}", case_no=case_no)
    if not hmac.compare_digest(expected, str(mac.get("value", ""))):
        return ExportCheck(False, reason="document signature mismatch (file altered)",
                           case_no=case_no)
    events = doc.get("events") or []
    if any(e.get("chain_key") != doc.get("chain") for e in events):
        return ExportCheck(False, reason="an event belongs to another chain", case_no=case_no)
    head = doc.get("head") or {}
    count, broken = verify_chain(doc.get("chain", ""), events, lambda k: _key(keyring, k),
                                 head=(int(head.get("seq", 0)), str(head.get("hash", GENESIS))))
    if broken is not None:
        return ExportCheck(False, count, broken.reason, broken.seq, case_no)
    return ExportCheck(True, count, case_no=case_no)


def _parse(data: bytes | str | dict) -> tuple[dict, str | None]:
    if isinstance(data, dict):
        return data, None
    try:
        raw = data.decode("utf-8") if isinstance(data, bytes) else data
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return {}, f"not valid JSON ({exc})"
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        return {}, "not a jiefen case export"
    if canonical_json(doc) != raw:
        return {}, "file is not in canonical form (bytes changed after export)"
    return doc, None


def _key(keyring: Keyring, key_id: str) -> bytes | None:
    try:
        return keyring.key(KeyPurpose.AUDIT_HMAC, key_id)
    except UnknownKey:
        return None


def export_case(services: Services, case_no: str, actor: Actor, *, purpose: str = "external_review",
                reason: str = "") -> tuple[bytes, str]:
    """JSON bytes and the HTML report of a case; the export itself is audited (case_exported,
    with its purpose). Callers check the export permission (web: auditors; CLI: the operator)."""
    if purpose not in EXPORT_PURPOSES:
        raise InvalidInput({"purpose": FieldError(ErrorCode.CHOOSE_EXPORT_PURPOSE)})
    pii_text.refuse(reason=reason)
    doc = build_export(services, case_no, actor)
    content = export_bytes(doc)
    digest = hashlib.sha256(content).hexdigest()
    with services.session_factory() as session:
        roles = dict(session.execute(select(Role.code, Role.name_zh)).all())
    html = render_report(doc, case_history(services, case_no), digest, roles)
    with services.new_uow() as uow:
        uow.audit.record(AuditAction.CASE_EXPORTED, actor, case=doc["case"]["id"],
                         object_type="case", object_id=doc["case"]["id"], format="json+html",
                         events=len(doc["events"]), sha256=digest, purpose=purpose,
                         reason=reason[:200], decision="allow", rule="export_audit.role",
                         ip=actor.ip, session_hash=actor.session_hash)
        uow.commit()
    return content, html
