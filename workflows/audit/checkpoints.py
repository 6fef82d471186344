"""Exported audit chain heads: an ``audit_checkpoint`` row with an HMAC, and the same record
shipped to the heads sinks off the database: a JSON-lines file (``JIEFEN_AUDIT_HEADS_FILE``) and,
when ``JIEFEN_AUDIT_HEADS_URL`` is set, an HTTP endpoint (POST per record, retried; spooled in
the instance folder until accepted).

A checkpoint is *full* (every chain) when an exporting process starts, once a day, after a
``--once`` run and when the scheduler stops; otherwise a *delta*: the chains whose head moved since
the previous checkpoint of this process. The scheduler exports after every sweep, every
``JIEFEN_AUDIT_HEADS_INTERVAL_MINUTES`` and at shutdown; a web process every as many minutes. A
verifier compares each chain with the newest exported head that contains it (docs/audit.md).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from engine.audit_chain import canonical_json
from engine.crypto import KeyPurpose, Keyring, audit_mac
from engine.models import AuditChainHead, AuditCheckpoint, AuditEvent
from workflows.core.settings import Settings

try:  # POSIX: several processes append to the same sink files
    import fcntl
except ImportError:  # pragma: no cover - not a deployment platform
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

log = logging.getLogger(__name__)
HTTP_TIMEOUT = 10.0      # seconds per request to the HTTP sink
BACKOFF = 0.5            # seconds before the first retry; doubled each time


class HeadExporter:
    """Remembers what it exported last, so a delta holds only the chains that moved."""

    def __init__(self) -> None:
        self.exported: dict[str, list] | None = None
        self.newest_event: int | None = None

    def export(self, services: Services, *, full: bool = False, reason: str = "interval",
               if_new_events: bool = False) -> AuditCheckpoint | None:
        """Write a checkpoint if any head moved (always when ``full``); None if nothing to do.

        ``if_new_events`` (after every sweep): first a cheap look at the newest event id, and
        nothing more when no event was appended since the previous export of this process."""
        if if_new_events and not full and self.exported is not None:
            with services.session_factory() as session:
                if _newest_event(session) == self.newest_event:
                    return None
        with services.new_uow() as uow:
            newest = _newest_event(uow.session)
            heads = {h.chain_key: [h.last_seq, h.last_hash]
                     for h in uow.session.scalars(select(AuditChainHead))}
            exported = self.exported
            full = full or exported is None
            changed = heads if full or exported is None else \
                {k: v for k, v in heads.items() if exported.get(k) != v}
            if not changed and not full:
                self.newest_event = newest
                return None
            now = uow.clock.now()
            checkpoint = AuditCheckpoint(taken_at=now, heads=changed,
                                         mac=checkpoint_mac(services.keyring, now, changed))
            uow.session.add(checkpoint)
            uow.commit()
        self.exported, self.newest_event = heads, newest
        ship(services.settings, record_of(checkpoint, full, reason))
        return checkpoint


def _newest_event(session: Any) -> int | None:
    return session.scalar(select(func.max(AuditEvent.id)))


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


def record_of(checkpoint: AuditCheckpoint, full: bool, reason: str) -> dict:
    """The shipped form of a checkpoint (``reason``: start, sweep, interval, daily, once, stop)."""
    return {"id": checkpoint.id, "taken_at": checkpoint.taken_at.isoformat(), "full": full,
            "reason": reason, "heads": checkpoint.heads, "mac": checkpoint.mac}


# -- sinks ------------------------------------------------------------------------------------------
def heads_path(settings: Settings) -> Path:
    """The file sink (put it on storage the database host cannot rewrite, or copy it off)."""
    return Path(settings.audit_heads_file or Path(settings.instance_path) / "audit" / "heads.jsonl")


def spool_path(settings: Settings) -> Path:
    """Records not yet accepted by the HTTP sink, oldest first."""
    return Path(settings.instance_path) / "audit" / "heads-http-spool.jsonl"


def ship(settings: Settings, record: dict) -> None:
    """Append the record to the file sink and, with an HTTP sink, to its spool (sent by
    ``HttpSink.drain``: never on the caller's time). A sink that fails is logged, never raised:
    the checkpoint row is committed already."""
    line = json.dumps(record, ensure_ascii=False, sort_keys=True)
    try:
        _append(heads_path(settings), line)
        if settings.audit_heads_url:
            _append(spool_path(settings), line)
    except OSError:
        log.exception("could not write the audit heads record %s", record.get("id"))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.with_name(path.name + ".lock").open("a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _append(path: Path, line: str) -> None:
    with _locked(path), path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


class SinkUnreadable(Exception):
    """The HTTP sink could not be read back (verification)."""


class HttpSink:
    """POST each spooled record (JSON) to ``JIEFEN_AUDIT_HEADS_URL``, oldest first, with retries;
    a record stays spooled until the sink answers 2xx. GET on the same URL reads the records back
    as JSON lines (``jiefen audit verify``)."""

    def __init__(self, settings: Settings, *, sleep: Callable[[float], None] = time.sleep,
                 opener: Callable[..., Any] = urllib.request.urlopen):
        self.settings, self.sleep, self.opener = settings, sleep, opener

    def _request(self, method: str, body: bytes | None = None) -> urllib.request.Request:
        url = self.settings.audit_heads_url
        if not url.lower().startswith(("https://", "http://")):
            raise ValueError(f"JIEFEN_AUDIT_HEADS_URL must be http(s): {url!r}")
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.settings.audit_heads_token:
            headers["Authorization"] = f"Bearer {self.settings.audit_heads_token}"
        return urllib.request.Request(url, data=body, headers=headers,  # noqa: S310 - checked
                                      method=method)

    def drain(self) -> int:
        """Send what is spooled; returns how many records the sink accepted this round."""
        if not self.settings.audit_heads_url:
            return 0
        path = spool_path(self.settings)
        with _locked(path):
            lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
            sent = 0
            for line in lines:
                if not line.strip():
                    sent += 1
                    continue
                if not self._post(line):
                    break
                sent += 1
            if sent:
                path.write_text("".join(f"{rest}\n" for rest in lines[sent:]), encoding="utf-8")
        return sent

    def _post(self, line: str) -> bool:
        attempts = 1 + max(self.settings.audit_heads_retries, 0)
        for attempt in range(attempts):
            try:
                with self.opener(self._request("POST", line.encode("utf-8")),
                                 timeout=HTTP_TIMEOUT) as response:
                    if 200 <= response.status < 300:
                        return True
            except (urllib.error.URLError, OSError, ValueError) as exc:
                log.warning("audit heads sink refused a record (attempt %d): %s", attempt + 1, exc)
            if attempt + 1 < attempts:
                self.sleep(BACKOFF * 2 ** attempt)
        return False

    def read(self) -> list[str]:
        """The records the sink holds, as JSON lines."""
        try:
            with self.opener(self._request("GET"), timeout=HTTP_TIMEOUT) as response:
                text = response.read().decode("utf-8")
        except (urllib.error.URLError, OSError, ValueError, UnicodeDecodeError) as exc:
            raise SinkUnreadable(f"{self.settings.audit_heads_url}: {exc}") from None
        return [line for line in text.splitlines() if line.strip()]


def shipped_copies(settings: Settings) -> list[tuple[str, list[str]]]:
    """What the configured sinks hold, for verification: the file sink, and the HTTP sink read
    back (SinkUnreadable if it cannot be)."""
    path = heads_path(settings)
    copies = [(path.name, path.read_text(encoding="utf-8").splitlines() if path.exists() else [])]
    if settings.audit_heads_url:
        copies.append((settings.audit_heads_url, HttpSink(settings).read()))
    return copies
