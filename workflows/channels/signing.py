"""Shared secrets of push channels and the HMAC signature both directions use.

A request is signed over ``"<timestamp>.<raw body>"`` with HMAC-SHA256 and the channel's secret:
headers ``X-Jiefen-Timestamp`` (Unix seconds) and ``X-Jiefen-Signature: sha256=<hex>``. A
timestamp further than ``channel_max_skew_seconds`` from the server clock (either way) is
refused, so a captured request cannot be replayed later; within the window the order number
makes a repeat harmless. Secrets are stored encrypted (the HMAC needs them back); a new secret
leaves the previous one valid for ``channel_secret_grace_hours`` so the channel can switch over.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from engine.crypto import field_aad
from workflows.audit.log import AuditAction
from workflows.channels.health import interface_by_code
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, NotFound
from workflows.models import Interface, InterfaceKind
from workflows.runtime.unit_of_work import UnitOfWork

TIMESTAMP_HEADER = "X-Jiefen-Timestamp"
SIGNATURE_HEADER = "X-Jiefen-Signature"
SECRET_KINDS = (InterfaceKind.PUSH_IN, InterfaceKind.DEVICE, InterfaceKind.APP, InterfaceKind.FEED)


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, "<timestamp>.<body>")."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def check_signature(valid_secrets: list[str], timestamp: str | None, signature: str | None,
                    body: bytes, now: datetime, max_skew_seconds: int) -> str | None:
    """None when the request is signed by one of ``valid_secrets`` within the time window, else
    the refusal's reason: ``missing_signature``, ``bad_timestamp``, ``stale_timestamp``,
    ``bad_signature``, ``no_secret``. Every secret is compared, in constant time."""
    if not timestamp or not signature:
        return "missing_signature"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "bad_timestamp"
    if abs(now.timestamp() - int(timestamp)) > max_skew_seconds:
        return "stale_timestamp"
    if not valid_secrets:
        return "no_secret"
    given = signature.strip().encode("ascii", "replace")
    matched = False
    for secret in valid_secrets:
        matched |= hmac.compare_digest(sign(secret, timestamp, body).encode(), given)
    return None if matched else "bad_signature"


def valid_secrets(uow: UnitOfWork, row: Interface) -> list[str]:
    """The current secret and, during its grace period, the previous one."""
    cipher, aad = uow.services.cipher, _aad(row)
    out = []
    if row.secret_enc:
        out.append(cipher.decrypt(row.secret_enc, aad=aad))
    if row.previous_secret_enc and row.previous_valid_until is not None \
            and row.previous_valid_until > uow.clock.now():
        out.append(cipher.decrypt(row.previous_secret_enc, aad=aad))
    return out


def current_secret(uow: UnitOfWork, row: Interface) -> str | None:
    return uow.services.cipher.decrypt(row.secret_enc, aad=_aad(row)) if row.secret_enc else None


def issue_secret(uow: UnitOfWork, actor: Actor, code: str) -> str:
    """A new shared secret for the channel ``code``, returned once; the previous one stays valid
    for the grace period. Audited without the secret."""
    with uow:
        row = interface_by_code(uow.session, code)
        if row is None or row.kind not in SECRET_KINDS:
            raise NotFound(ErrorCode.UNKNOWN_CHANNEL, channel=code)
        secret = issue_for(uow, row)
        uow.audit.record(AuditAction.CHANNEL_SECRET_ISSUED, actor, object_type="interface",
                         object_id=row.code, grace_until=None if row.previous_valid_until is None
                         else row.previous_valid_until.isoformat())
        uow.commit()
        return secret


def issue_for(uow: UnitOfWork, row: Interface) -> str:
    """Set a new secret on ``row`` (in the caller's unit of work) and return it."""
    now = uow.clock.now()
    grace = timedelta(hours=uow.services.settings.channel_secret_grace_hours)
    if row.id is None:
        uow.session.flush()
    if row.secret_enc:
        row.previous_secret_enc, row.previous_valid_until = row.secret_enc, now + grace
    secret = secrets.token_urlsafe(32)
    row.secret_enc = uow.services.cipher.encrypt(secret, aad=_aad(row))
    row.secret_set_at = now
    return secret


def _aad(row: Interface) -> str:
    return field_aad("interface", "secret", row.id)
