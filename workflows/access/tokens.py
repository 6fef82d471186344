"""API tokens for channel systems: shown once, stored as prefix + sha256, checked in constant time.

Format: ``jf_<prefix>_<secret>``; the 8-character prefix finds the row by index, the secret's sha256
is compared with ``hmac.compare_digest``. A token acts under its user's roles and scope (0005_web).
Every token expires: its lifetime is 1 to 366 days (default 90), so a leaked token does not work
forever and channel systems rotate theirs at least once a year.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.input_rules import text_error
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ErrorCode, FieldError, InvalidInput, NotFound
from workflows.district.units import unit_row
from workflows.models import ApiToken, Channel, User, UserRole
from workflows.runtime.unit_of_work import UnitOfWork

TOKEN_PATTERN = re.compile(r"jf_([0-9a-f]{8})_([A-Za-z0-9_-]{32,64})")
API_CHANNELS = (Channel.HOTLINE_12345, Channel.GRID_APP, Channel.PORTAL,
                Channel.PETITION_TRANSFER, Channel.POLICE_110, Channel.IOT)
LAST_USED_EVERY = timedelta(minutes=5)
MIN_DAYS, MAX_DAYS, DEFAULT_DAYS = 1, 366, 90
MAX_NAME = 100  # api_token.name


@dataclass(frozen=True)
class IssuedToken:
    """A newly issued token; ``token`` is shown once and never stored."""

    id: int
    token: str
    prefix: str
    channel: str
    username: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(uow: UnitOfWork, actor: Actor, *, username: str, channel: str = "portal",
                name: str = "", days: int = DEFAULT_DAYS) -> IssuedToken:
    """Create a token for ``username`` on ``channel`` valid for ``days`` (1..366); the plain
    token is returned once."""
    if channel not in {c.value for c in API_CHANNELS}:
        raise InvalidInput({"channel": FieldError(ErrorCode.UNKNOWN_CHANNEL, {"channel": channel})})
    check_days(days)
    if (error := text_error(name, max_length=MAX_NAME)) is not None:
        raise InvalidInput({"name": error})
    pii_text.refuse(name=name)  # a label is free text: no one's phone number in it
    with uow:
        user = uow.session.scalars(select(User).where(User.username == username)).first()
        if user is None or not user.active:
            raise NotFound(ErrorCode.USER_NOT_FOUND, username=username)
        prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
        now = uow.clock.now()
        row = ApiToken(channel=channel, name=name or f"{channel}:{username}", prefix=prefix,
                       token_hash=_digest(secret), scopes=["cases"], user_id=user.id,
                       created_by=int(actor.id) if actor.type == "user" and actor.id else None,
                       created_at=now, expires_at=now + timedelta(days=days))
        uow.session.add(row)
        uow.session.flush()
        uow.audit.record(AuditAction.TOKEN_CREATED, actor, object_type="api_token",
                         object_id=row.id, prefix=prefix, channel=channel, user_id=user.id,
                         days=days, expires_at=row.expires_at.isoformat())
        uow.commit()
        return IssuedToken(row.id, f"jf_{prefix}_{secret}", prefix, channel, username)


def check_days(days: object) -> int:
    """A token lifetime in whole days within 1..366; InvalidInput ``days`` otherwise."""
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise InvalidInput({"days": FieldError(ErrorCode.TOKEN_DAYS,
                                               {"min": MIN_DAYS, "max": MAX_DAYS})})
    return days


def revoke_token(uow: UnitOfWork, actor: Actor, *, prefix: str) -> int:
    """Revoke every live token with this prefix (or full token); returns how many."""
    match = TOKEN_PATTERN.fullmatch(prefix)
    prefix = match.group(1) if match else prefix.removeprefix("jf_").split("_")[0]
    with uow:
        rows = uow.session.scalars(select(ApiToken).where(
            ApiToken.prefix == prefix, ApiToken.revoked_at.is_(None))).all()
        for row in rows:
            row.revoked_at = uow.clock.now()
            uow.audit.record(AuditAction.TOKEN_REVOKED, actor, object_type="api_token",
                             object_id=row.id, prefix=prefix)
        uow.commit()
    return len(rows)


def verify_token(uow: UnitOfWork, raw: str, *, ip: str | None = None) -> tuple[Actor, int] | None:
    """The API actor and token id for a valid, live token whose user is active; else None."""
    match = TOKEN_PATTERN.fullmatch(raw or "")
    if match is None:
        return None
    prefix, digest = match.group(1), _digest(match.group(2))
    with uow:
        now = uow.clock.now()
        rows = uow.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix)).all()
        row = next((r for r in rows if hmac.compare_digest(r.token_hash, digest)), None)
        if row is None or not _live(row, now):
            return None
        actor = _token_actor(uow.session, row, ip)
        if actor is None:
            return None
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
            row.last_used_at = now
            uow.commit()
        return actor, row.id


def _live(row: ApiToken, now: datetime) -> bool:
    return row.revoked_at is None and now < row.expires_at


def _token_actor(session: Session, row: ApiToken, ip: str | None) -> Actor | None:
    user = session.get(User, row.user_id) if row.user_id else None
    if user is None or not user.active:
        return None
    roles = frozenset(link.role.code for link in
                      session.scalars(select(UserRole).where(UserRole.user_id == user.id)).unique())
    unit = unit_row(session, user.department_id)
    return Actor(type="api", id=str(user.id), username=user.username, roles=roles,
                 department_id=user.department_id, department_code=unit.code if unit else None,
                 unit_path=unit.path if unit else None,
                 channel=row.channel, ip=ip, session_hash=f"token:{row.prefix}")
