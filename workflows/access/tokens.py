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
from typing import TYPE_CHECKING

from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from engine.input_rules import text_error
from workflows.access.principal import joined, principal, reading
from workflows.audit.log import AuditAction
from workflows.core import pii_text
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, ErrorCode, FieldError, InvalidInput, NotFound
from workflows.district.directory_cache import Stamp, carry_stamp
from workflows.models import ApiToken, Channel, User
from workflows.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

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
            _audit_revoked(uow, actor, row)
        uow.commit()
    return len(rows)


def revoke_token_id(uow: UnitOfWork, actor: Actor, token_id: int) -> bool:
    """Revoke one token by its id; False when it was revoked already (someone else, say). The
    UPDATE holds only while the token is live, so two revocations audit one."""
    with uow:
        row = uow.session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(ErrorCode.NOT_FOUND, token_id=token_id)
        done = uow.session.execute(
            update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=uow.clock.now()).execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
            return False
        _audit_revoked(uow, actor, row)
        uow.commit()
    return True


def _audit_revoked(uow: UnitOfWork, actor: Actor, row: ApiToken) -> None:
    uow.audit.record(AuditAction.TOKEN_REVOKED, actor, object_type="api_token",
                     object_id=row.id, prefix=row.prefix)


# built once: a request only binds the prefix (one row per token of the prefix and role)
TOKEN_QUERY = joined(select(ApiToken.id, ApiToken.token_hash, ApiToken.channel,
                            ApiToken.revoked_at, ApiToken.expires_at, ApiToken.last_used_at)
                     .select_from(ApiToken), ApiToken.user_id) \
    .where(ApiToken.prefix == bindparam("prefix"))


@dataclass(frozen=True)
class TokenCheck:
    """A valid token's actor; ``stale``: its last-used stamp is due (``touch_token``);
    ``directory_stamp``: as the check read it (the request's service call may take it)."""

    actor: Actor
    token_id: int
    stale: bool
    directory_stamp: Stamp | None = None


def read_token(session: Session, raw: str, now: datetime, *,
               ip: str | None = None) -> TokenCheck | None:
    """The check of a valid, live token whose user is active, else None; one plain read
    (token, user, unit and roles joined), nothing written."""
    match = TOKEN_PATTERN.fullmatch(raw or "")
    if match is None:
        return None
    prefix, digest = match.group(1), _digest(match.group(2))
    by_token: dict[int, list[Row]] = {}
    for row in session.execute(TOKEN_QUERY, {"prefix": prefix}):
        by_token.setdefault(row[0], []).append(row)
    rows = next((rows for rows in by_token.values()
                 if hmac.compare_digest(rows[0].token_hash, digest)), None)
    if rows is None:
        return None
    token_id, _hash, channel, revoked_at, expires_at, last_used_at = rows[0][:6]
    user = principal(rows)
    if revoked_at is not None or now >= expires_at or not user.active:
        return None
    actor = Actor(type="api", id=str(user.user_id), username=user.username, roles=user.roles,
                  department_id=user.department_id, department_code=user.unit_code,
                  unit_path=user.unit_path, channel=channel, ip=ip,
                  session_hash=f"token:{prefix}")
    carry_stamp(session, user.directory_stamp)
    return TokenCheck(actor, token_id, last_used_at is None or now - last_used_at >= LAST_USED_EVERY,
                      user.directory_stamp)


def touch_token(services: Services, token_id: int) -> None:
    """Stamp the token as used now (at most every ``LAST_USED_EVERY``); a busy database skips
    the stamp rather than failing the request it belongs to."""
    try:
        with services.new_uow() as uow:
            uow.session.execute(update(ApiToken).where(ApiToken.id == token_id)
                                .values(last_used_at=uow.clock.now()))
            uow.commit()
    except ConcurrentUpdate:
        pass


def verify_token(services: Services, raw: str, *,
                 ip: str | None = None) -> tuple[Actor, int] | None:
    """The API actor and token id for a valid, live token whose user is active; else None
    (stamps its use when due)."""
    with reading(services) as session:
        check = read_token(session, raw, services.clock.now(), ip=ip)
    if check is None:
        return None
    if check.stale:
        touch_token(services, check.token_id)
    return check.actor, check.token_id
