"""Sign-in without Flask: argon2id passwords, server-side login sessions, DB-stored throttling.

The cookie holds a random session id; only its sha256 is stored. Every request resumes the
session from the table, so sign-out, a password change or disabling the account ends it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from engine.crypto import KeyPurpose, Keyring
from workflows.access.codes import check_code
from workflows.access.hashing import hasher
from workflows.access.principal import joined, principal, reading
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import ConcurrentUpdate, DomainError, ErrorCode, FieldError, InvalidInput
from workflows.core.settings import Settings
from workflows.district.directory_cache import Stamp
from workflows.district.units import unit_row
from workflows.models import LoginAttempt, LoginSession, RoleCode, User, UserRole
from workflows.runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from workflows.runtime.bootstrap import Services

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most once a minute
MIN_PASSWORD = 10
FACTOR_WAIT = timedelta(minutes=5)  # a password-only session waits this long for the code
# accounts that must sign in with a second factor (workflows/access/second_factor.py)
PRIVILEGED = frozenset({RoleCode.ADMIN, RoleCode.PROCESS_OWNER, RoleCode.AUDITOR})


class Stage(StrEnum):
    """How far a login session has got; only ``full`` sessions reach anything but the factor
    pages and sign-out."""

    FULL = "full"
    FACTOR = "factor"      # password accepted; the second factor is due
    ENROL = "enrol"        # password accepted; a privileged account must enrol a factor first


def factor_required(roles: frozenset[str] | set[str]) -> bool:
    """True when an account with these roles must sign in with a second factor."""
    return bool(PRIVILEGED & set(roles))


def enrolled(user: User) -> bool:
    """True when the account has a confirmed second factor."""
    return user.totp_enrolled_at is not None and user.totp_secret_enc is not None


class LoginFailed(DomainError):
    """Wrong username or password, or a disabled account (one message for all: no enumeration)."""


class LoginThrottled(DomainError):
    """Too many failed sign-ins for this username or address within the window."""


@cache
def _dummy_hash(ph: PasswordHasher) -> str:
    # verifying an unknown user against this keeps the timing of both failure paths alike
    return ph.hash(secrets.token_urlsafe(16))


def hash_password(settings: Settings, password: str) -> str:
    """argon2id hash of a password that meets the policy; InvalidInput otherwise."""
    check_password_policy(password)
    return hasher(settings).hash(password)


def check_password_policy(password: str) -> None:
    """At least 10 characters, not only digits or only letters."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput({"password": FieldError(
            ErrorCode.PASSWORD_TOO_SHORT, {"limit": MIN_PASSWORD})})
    if password.isdigit() or password.isalpha():
        raise InvalidInput({"password": FieldError(ErrorCode.PASSWORD_TOO_SIMPLE)})


def verify_password(settings: Settings, stored: str | None, password: str) -> bool:
    """Constant-work check; an unknown account is checked against a dummy hash."""
    ph = hasher(settings)
    try:
        return ph.verify(stored or _dummy_hash(ph), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def username_hash(keyring: Keyring, username: str) -> str:
    """Keyed hash of a normalized username for the attempt log (no plain usernames stored)."""
    key = keyring.key(KeyPurpose.BLIND_INDEX, keyring.primary_id(KeyPurpose.BLIND_INDEX))
    return hmac.new(key, f"login:{username.strip().lower()}".encode(), hashlib.sha256).hexdigest()


def session_hash(raw: str) -> str:
    """sha256 of a raw session id, the form stored in login_session.id_hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class SessionUser:
    """What a request needs of the signed-in user, read once per request."""

    user_id: int
    username: str
    display_name: str
    locale: str | None
    roles: frozenset[str]
    department_id: int | None
    department_code: str | None
    department_name: str | None
    session_hash: str
    unit_path: str | None = None
    stage: str = Stage.FULL
    text_size: str = "standard"
    directory_stamp: Stamp | None = None    # as this request's read saw it

    def actor(self, ip: str | None = None) -> Actor:
        """The policy's view of this user for one request."""
        return Actor(type="user", id=str(self.user_id), username=self.username, roles=self.roles,
                     department_id=self.department_id, department_code=self.department_code,
                     unit_path=self.unit_path,
                     ip=ip, session_hash=self.session_hash)


@dataclass(frozen=True)
class LoginResult:
    """A new session: the raw id goes into the cookie and nowhere else."""

    session_id: str
    user: SessionUser


# -- throttling ---------------------------------------------------------------------------------
def _failures_since(session: Session, column, value, since: datetime) -> int:
    last_ok = select(func.max(LoginAttempt.at)).where(column == value, LoginAttempt.success)
    last_success = session.scalar(last_ok)
    start = max(since, last_success) if last_success else since
    query = select(func.count()).select_from(LoginAttempt).where(
        column == value, LoginAttempt.at > start, LoginAttempt.success.is_(False))
    return session.scalar(query) or 0


def is_throttled(uow: UnitOfWork, *, name_hash: str, ip: str | None) -> bool:
    """True when the username or the address has too many recent failures (works across workers)."""
    settings = uow.services.settings
    since = uow.clock.now() - timedelta(minutes=settings.login_window_minutes)
    if _failures_since(uow.session, LoginAttempt.username_hash, name_hash, since) \
            >= settings.login_max_failures:
        return True
    return ip is not None and _failures_since(uow.session, LoginAttempt.ip, ip, since) \
        >= settings.login_max_failures_per_ip


# -- sign-in and sessions -----------------------------------------------------------------------
def login(uow: UnitOfWork, *, username: str, password: str, ip: str | None) -> LoginResult:
    """Check the password and open a fresh login session (new id at every sign-in)."""
    with uow:
        name_hash = username_hash(uow.services.keyring, username)
        who = Actor(type="user", username=username[:64], ip=ip)
        if is_throttled(uow, name_hash=name_hash, ip=ip):
            # audited, but not counted: attempts during a lockout must not prolong it
            _failed(uow, who, name_hash, ip, "throttled", count=False)
            raise LoginThrottled("too many failed sign-ins")
        user = uow.session.scalars(select(User).where(User.username == username.strip())).first()
        ok = verify_password(uow.services.settings, user.password_hash if user else None,
                             password)
        if not ok or user is None or not user.active:
            _failed(uow, who, name_hash, ip, "disabled" if ok else "bad_credentials")
            raise LoginFailed("wrong username or password")
        _rehash(uow, user, password)
        result = _after_password(uow, user, name_hash, ip)
        uow.commit()
    return result


def _after_password(uow: UnitOfWork, user: User, name_hash: str, ip: str | None) -> LoginResult:
    """A full session, or one that may only give (or, for a privileged account, enrol) the
    second factor."""
    if enrolled(user):
        return open_session(uow, user, name_hash, ip, stage=Stage.FACTOR)
    if factor_required(_role_codes(uow.session, user)):
        return open_session(uow, user, name_hash, ip, stage=Stage.ENROL)
    return open_session(uow, user, name_hash, ip)


def record_failure(uow: UnitOfWork, who: Actor, name_hash: str, ip: str | None, reason: str, *,
                   count: bool = True) -> None:
    """A failed sign-in step, audited and (unless ``count`` is false) counted for the throttle;
    committed at once so the raise that follows cannot roll it back."""
    _failed(uow, who, name_hash, ip, reason, count=count)


def _failed(uow: UnitOfWork, who: Actor, name_hash: str, ip: str | None, reason: str, *,
            count: bool = True) -> None:
    if count:
        uow.session.add(LoginAttempt(username_hash=name_hash, ip=ip, at=uow.clock.now(),
                                     success=False))
    uow.audit.record(AuditAction.LOGIN_FAILED, who, object_type="login", username_hash=name_hash,
                     ip=ip, reason=reason)
    uow.commit()


def _rehash(uow: UnitOfWork, user: User, password: str) -> None:
    ph = hasher(uow.services.settings)
    if ph.check_needs_rehash(user.password_hash):
        user.password_hash = ph.hash(password)  # the configured Argon2 parameters were changed


def open_session(uow: UnitOfWork, user: User, name_hash: str, ip: str | None, *,
                 stage: Stage = Stage.FULL, factor: str | None = None) -> LoginResult:
    """A new login session with a new random id. A full one counts as a successful sign-in (it
    restarts the throttle's count); one waiting for the second factor does not, so wrong codes
    keep adding up even if the password is typed again."""
    now = uow.clock.now()
    raw = secrets.token_urlsafe(32)
    max_age = timedelta(hours=uow.services.settings.session_max_age_hours)
    expires = now + (FACTOR_WAIT if stage == Stage.FACTOR else max_age)
    uow.session.add(LoginSession(id_hash=session_hash(raw), user_id=user.id, created_at=now,
                                 last_seen_at=now, expires_at=expires, ip=ip, stage=stage))
    session_user = _session_user(uow.session, user, session_hash(raw), stage)
    if stage == Stage.FULL:
        uow.session.add(LoginAttempt(username_hash=name_hash, ip=ip, at=now, success=True))
        user.last_login_at = now
        payload: dict[str, object] = {"ip": ip, "session_hash": session_hash(raw)[:16]}
        if factor:
            payload["second_factor"] = factor
        uow.audit.record_copy(AuditAction.LOGIN_SUCCEEDED, session_user.actor(ip), payload,
                              object_type="user", object_id=user.id)
    else:
        uow.audit.record(AuditAction.LOGIN_PASSWORD_ACCEPTED, session_user.actor(ip),
                         object_type="user", object_id=user.id, ip=ip, stage=str(stage),
                         session_hash=session_hash(raw)[:16])
    return LoginResult(raw, session_user)


# built once: a request only binds the session's hash
SESSION_QUERY = joined(select(LoginSession.id, LoginSession.stage, LoginSession.revoked_at,
                              LoginSession.expires_at, LoginSession.last_seen_at)
                       .select_from(LoginSession), LoginSession.user_id) \
    .where(LoginSession.id_hash == bindparam("id_hash"))


@dataclass(frozen=True)
class Resumed:
    """A live session's user; ``stale``: its last-seen stamp is due (``touch_session``)."""

    user: SessionUser
    session_id: int
    stale: bool


def read_session(session: Session, raw: str, now: datetime,
                 idle_minutes: int) -> Resumed | None:
    """The user of a live session, or None if it is unknown, revoked, idle too long or expired;
    one plain read (session, user, unit and roles joined), nothing written."""
    id_hash = session_hash(raw)
    rows = session.execute(SESSION_QUERY, {"id_hash": id_hash}).all()
    if not rows:
        return None
    row_id, stage, revoked_at, expires_at, last_seen_at = rows[0][:5]
    if revoked_at is not None or now >= expires_at \
            or now - last_seen_at >= timedelta(minutes=idle_minutes):
        return None
    user = principal(rows)
    if not user.active:
        return None
    if stage == Stage.FULL and factor_required(user.roles) and not user.enrolled:
        stage = Stage.ENROL   # a role that needs a factor was granted after this sign-in
    found = SessionUser(user.user_id, user.username, user.display_name, user.locale, user.roles,
                        user.department_id, user.unit_code, user.unit_name, id_hash,
                        user.unit_path, stage, user.text_size, user.directory_stamp)
    return Resumed(found, row_id, now - last_seen_at >= TOUCH_EVERY)


def touch_session(services: Services, session_id: int) -> None:
    """Stamp the session as seen now (at most every ``TOUCH_EVERY``); a busy database skips the
    stamp rather than failing the request it belongs to."""
    try:
        with services.new_uow() as uow:
            uow.session.execute(update(LoginSession).where(LoginSession.id == session_id)
                                .values(last_seen_at=uow.clock.now()))
            uow.commit()
    except ConcurrentUpdate:
        pass


def resume(services: Services, raw: str) -> SessionUser | None:
    """The user of a live session, or None if it is unknown, revoked, idle too long or expired
    (stamps it as seen when due)."""
    with reading(services) as session:
        found = read_session(session, raw, services.clock.now(),
                             services.settings.session_idle_minutes)
    if found is None:
        return None
    if found.stale:
        touch_session(services, found.session_id)
    return found.user


def logout(uow: UnitOfWork, raw: str, actor: Actor) -> None:
    """End one session now; the copied cookie is worthless afterwards."""
    with uow:
        uow.session.execute(update(LoginSession)
                            .where(LoginSession.id_hash == session_hash(raw),
                                   LoginSession.revoked_at.is_(None))
                            .values(revoked_at=uow.clock.now()))
        uow.audit.record(AuditAction.LOGGED_OUT, actor, object_type="user", object_id=actor.id)
        uow.commit()


def revoke_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Revoke every open session of a user (disable, password or role change); inside a UoW."""
    result = session.execute(update(LoginSession)
                             .where(LoginSession.user_id == user_id,
                                    LoginSession.revoked_at.is_(None))
                             .values(revoked_at=now))
    return result.rowcount or 0  # type: ignore[attr-defined]  # an UPDATE's CursorResult


def change_password(uow: UnitOfWork, actor: Actor, *, old: str, new: str, ip: str | None,
                    code: str = "") -> LoginResult:
    """Change the actor's password, end all their sessions and open a new one.

    A wrong old password counts as a failed sign-in (audited ``login_failed``, reason
    ``wrong_old_password``) and the sign-in throttle applies: a stolen session cannot try old
    passwords without limit. With a second factor, ``code`` (a current code or a recovery
    code) is needed too, counted the same way: a stolen session cannot change the password."""
    with uow:
        user = uow.session.get(User, int(actor.id or 0))
        if user is None:
            raise InvalidInput({"old_password": FieldError(ErrorCode.WRONG_PASSWORD)})
        name_hash = username_hash(uow.services.keyring, user.username)
        if is_throttled(uow, name_hash=name_hash, ip=ip):
            _failed(uow, actor, name_hash, ip, "password_change_throttled", count=False)
            raise InvalidInput({"old_password": FieldError(ErrorCode.TOO_MANY_ATTEMPTS)})
        if not verify_password(uow.services.settings, user.password_hash, old):
            _failed(uow, actor, name_hash, ip, "wrong_old_password")
            raise InvalidInput({"old_password": FieldError(ErrorCode.WRONG_PASSWORD)})
        check_password_policy(new)
        if enrolled(user) and check_code(uow, user, code) is None:
            _failed(uow, actor, name_hash, ip, "wrong_second_factor")
            raise InvalidInput({"code": FieldError(ErrorCode.WRONG_SECOND_FACTOR)})
        user.password_hash = hash_password(uow.services.settings, new)
        revoke_sessions(uow.session, user.id, uow.clock.now())
        uow.audit.record(AuditAction.USER_UPDATED, actor, object_type="user", object_id=user.id,
                         change="password")
        result = open_session(uow, user, username_hash(uow.services.keyring, user.username), ip,
                              stage=Stage.ENROL if factor_required(actor.roles)
                              and not enrolled(user) else Stage.FULL)
        uow.commit()
    return result


def _role_codes(session: Session, user: User) -> frozenset[str]:
    links = session.scalars(select(UserRole).where(UserRole.user_id == user.id)).unique()
    return frozenset(link.role.code for link in links)


def _session_user(session: Session, user: User, id_hash: str,
                  stage: str = Stage.FULL) -> SessionUser:
    codes = _role_codes(session, user)
    unit = unit_row(session, user.department_id)
    return SessionUser(user.id, user.username, user.display_name, user.locale, codes,
                       user.department_id, unit.code if unit else None,
                       unit.name if unit else None, id_hash, unit.path if unit else None,
                       stage, user.text_size or "standard")
