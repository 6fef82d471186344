"""Second factor at sign-in: time-based one-time codes (TOTP, RFC 6238) and recovery codes.

Administrators, process owners and auditors must have one (等保三级 asks it of administrators);
every other account may enrol one. After the password a login session only has a *stage*: it may
give its code (``factor``) or, for a privileged account without a factor, enrol one (``enrol``),
and nothing else; the code opens a fresh session with a new id.

- The secret is encrypted like personal data (field key, bound to its row); pages show it only
  while enrolling.
- A code is accepted for the current 30-second step and one step either side (clock drift); the
  step of the last accepted code is stored and a code of that step or an earlier one is refused,
  so an observed code cannot be used again.
- Wrong codes are failed sign-ins: counted and throttled like wrong passwords (``login_attempt``).
- Ten recovery codes are shown once at enrolment and stored as argon2id hashes; each works once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
from sqlalchemy import delete, func, select, update

from workflows.access.codes import check_code, matching_step, normal, secret, secret_aad
from workflows.access.sign_in import (
    LoginFailed,
    LoginResult,
    LoginThrottled,
    Stage,
    enrolled,
    factor_required,
    hasher,
    is_throttled,
    open_session,
    record_failure,
    session_hash,
    username_hash,
)
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor
from workflows.core.errors import DomainError, ErrorCode, FieldError, InvalidInput
from workflows.models import LoginSession, RecoveryCode, User
from workflows.runtime.unit_of_work import UnitOfWork

RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
ISSUER = "jiefen"


class AlreadyEnrolled(DomainError):
    """The account has a second factor; only an administrator's reset removes it."""


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret (for typing) and the otpauth URI (for the QR)."""

    secret: str
    uri: str


@dataclass(frozen=True)
class FactorStatus:
    """The account page's view of the own second factor."""

    required: bool
    enrolled_at: datetime | None
    recovery_codes_left: int


def _user(uow: UnitOfWork, actor: Actor) -> User:
    user = uow.session.get(User, int(actor.id or 0))
    if user is None or not user.active:
        raise LoginFailed("no such account")
    return user


# -- enrolment ----------------------------------------------------------------------------------
def status(uow: UnitOfWork, actor: Actor) -> FactorStatus:
    """Whether the actor has a second factor, must have one, and how many recovery codes remain."""
    with uow:
        user = _user(uow, actor)
        left = uow.session.scalar(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0
        return FactorStatus(factor_required(actor.roles),
                            user.totp_enrolled_at if enrolled(user) else None, left)


def start_enrolment(uow: UnitOfWork, actor: Actor) -> Enrolment:
    """The secret being enrolled: a new one the first time, the same one until confirmed (a
    reload must not invalidate what the user has just scanned)."""
    with uow:
        user = _user(uow, actor)
        if enrolled(user):
            raise AlreadyEnrolled("second factor already enrolled")
        if user.totp_secret_enc is None:
            user.totp_secret_enc = uow.services.cipher.encrypt(pyotp.random_base32(),
                                                               aad=secret_aad(user.id))
            uow.audit.record(AuditAction.USER_UPDATED, actor, object_type="user",
                             object_id=user.id, change="second_factor_started")
            uow.commit()
        key = secret(uow, user)
    uri = pyotp.TOTP(key).provisioning_uri(name=actor.username or str(user.id),
                                           issuer_name=ISSUER)
    return Enrolment(key, uri)


def confirm_enrolment(uow: UnitOfWork, actor: Actor, *, code: str, ip: str | None,
                      raw_session: str | None = None) -> tuple[list[str], LoginResult | None]:
    """Confirm the secret with a code from the app: the factor is on, ten recovery codes are
    made (returned once, stored hashed). A session in the ``enrol`` stage is replaced by a full
    one (returned); a wrong code is a counted failed sign-in."""
    with uow:
        user = _user(uow, actor)
        if enrolled(user):
            raise AlreadyEnrolled("second factor already enrolled")
        if user.totp_secret_enc is None:
            raise InvalidInput({"code": FieldError(ErrorCode.WRONG_SECOND_FACTOR)})
        name_hash = username_hash(uow.services.keyring, user.username)
        _check_throttle(uow, actor, name_hash, ip)
        now = uow.clock.now()
        step = matching_step(secret(uow, user), normal(code), now)
        if step is None:
            record_failure(uow, actor, name_hash, ip, "wrong_enrolment_code")
            raise InvalidInput({"code": FieldError(ErrorCode.WRONG_SECOND_FACTOR)})
        user.totp_enrolled_at = now
        user.totp_last_step = step
        codes = new_recovery_codes(uow, user)
        uow.audit.record(AuditAction.SECOND_FACTOR_ENROLLED, actor, object_type="user",
                         object_id=user.id, recovery_codes=len(codes))
        result = None
        if raw_session is not None:
            result = _promote(uow, user, raw_session, name_hash, ip, factor="enrolment")
        uow.commit()
    return codes, result


def new_recovery_codes(uow: UnitOfWork, user: User) -> list[str]:
    """Ten fresh recovery codes (any earlier ones stop working); only their hashes are kept."""
    ph = hasher(uow.services.settings)
    uow.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        uow.session.add(RecoveryCode(user_id=user.id, code_hash=ph.hash(raw),
                                     created_at=uow.clock.now()))
    return codes


# -- sign-in --------------------------------------------------------------------------------------
def _check_throttle(uow: UnitOfWork, actor: Actor, name_hash: str, ip: str | None) -> None:
    if is_throttled(uow, name_hash=name_hash, ip=ip):
        record_failure(uow, actor, name_hash, ip, "second_factor_throttled", count=False)
        raise LoginThrottled("too many failed sign-ins")


def verify(uow: UnitOfWork, actor: Actor, *, raw_session: str, code: str,
           ip: str | None) -> LoginResult:
    """Second step of a sign-in: the code of the account of a ``factor``-stage session. Right:
    a fresh full session replaces it. Wrong: a counted failed sign-in (``LoginFailed``)."""
    with uow:
        user = _user(uow, actor)
        name_hash = username_hash(uow.services.keyring, user.username)
        _check_throttle(uow, actor, name_hash, ip)
        used = check_code(uow, user, code) if enrolled(user) else None
        if used is None:
            record_failure(uow, actor, name_hash, ip, "wrong_second_factor")
            raise LoginFailed("wrong second factor")
        result = _promote(uow, user, raw_session, name_hash, ip, factor=used)
        uow.commit()
    return result


def _promote(uow: UnitOfWork, user: User, raw_session: str, name_hash: str, ip: str | None,
             *, factor: str) -> LoginResult:
    # the password-only session ends; the full one gets a new id (no fixation across stages)
    ended = uow.session.execute(update(LoginSession)
                                .where(LoginSession.id_hash == session_hash(raw_session),
                                       LoginSession.user_id == user.id,
                                       LoginSession.stage != Stage.FULL,
                                       LoginSession.revoked_at.is_(None))
                                .values(revoked_at=uow.clock.now()))
    if not ended.rowcount:  # type: ignore[attr-defined]  # an UPDATE's CursorResult
        raise LoginFailed("no password-only session to complete")
    return open_session(uow, user, name_hash, ip, factor=factor)
