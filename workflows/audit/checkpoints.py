"""Exported audit chain heads: an ``audit_checkpoint`` row with an HMAC, and
the same record appended to a write-once JSON-lines file off the database.

A checkpoint is *full* (every chain) when the scheduler starts and once a day, and a *delta* (the
chains whose head moved since the previous checkpoint written by this process) every 5 minutes.
A verifier compares each chain with the newest checkpoint that contains it.
"""

from __future__ import annotations

import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from engine.audit_chain import canonical_json
from engine.crypto import KeyPurpose, Keyring, audit_mac
from engine.models import AuditChainHead, AuditCheckpoint
from workflows.core.settings import Settings

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services


class HeadExporter:
    """Remembers what it exported last, so a delta holds only the chains that moved."""

    def __init__(self) -> None:
        self.exported: dict[str, list] | None = None

    def export(self, services: Services, *, full: bool = False) -> AuditCheckpoint | None:
        """Write a checkpoint if any head moved (always when ``full``); None if nothing to do."""
        with services.new_uow() as uow:
            heads = {h.chain_key: [h.last_seq, h.last_hash]
                     for h in uow.session.scalars(select(AuditChainHead))}
            exported = self.exported
            full = full or exported is None
            if full or exported is None:
                changed = heads
            else:
                changed = {k: v for k, v in heads.items() if exported.get(k) != v}
            if not changed and not full:
                return None
            now = uow.clock.now()
            checkpoint = AuditCheckpoint(taken_at=now, heads=changed,
                                         mac=checkpoint_mac(services.keyring, now, changed))
            uow.session.add(checkpoint)
            uow.commit()
        self.exported = heads
        _ship(services, checkpoint, full)
        return checkpoint


def checkpoint_mac(keyring: Keyring, taken_at: datetime, heads: dict) -> str:
    """HMAC (primary audit key) over the canonical JSON of time and heads."""
    key_id = keyring.primary_id(KeyPurpose.AUDIT_HMAC)
    body = canonical_json({"taken_at": taken_at, "heads": heads}).encode("utf-8")
    return audit_mac(keyring, key_id, body)


def verify_checkpoint(keyring: Keyring, checkpoint: AuditCheckpoint) -> bool:
    """The MAC recomputes under one of the keyring's audit keys."""
    body = canonical_json({"taken_at": checkpoint.taken_at, "heads": checkpoint.heads})
    # constant-time comparison: a verifier must not leak how much of a forged MAC matched
    return any(hmac.compare_digest(audit_mac(keyring, key_id, body.encode("utf-8")),
                                   str(checkpoint.mac or ""))
               for key_id in keyring.key_ids(KeyPurpose.AUDIT_HMAC))


def heads_path(settings: Settings) -> Path:
    """The shipped heads file (copy it off the host: syslog, WORM storage)."""
    return Path(settings.instance_path) / "audit" / "heads.jsonl"


def _ship(services: Services, checkpoint: AuditCheckpoint, full: bool) -> None:
    """Append the record to the instance folder's heads file (copy it off the host)."""
    path = heads_path(services.settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"id": checkpoint.id, "taken_at": checkpoint.taken_at.isoformat(), "full": full,
              "heads": checkpoint.heads, "mac": checkpoint.mac}
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
