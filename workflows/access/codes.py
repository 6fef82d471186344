"""Checking second-factor codes: TOTP codes (RFC 6238, once per time step) and recovery codes
(once each). See workflows/access/second_factor.py for enrolment and the sign-in step."""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update

from engine.crypto import field_aad
from workflows.access.hashing import hasher
from workflows.models import RecoveryCode, User
from workflows.runtime.unit_of_work import UnitOfWork

STEP_SECONDS = 30
DRIFT_STEPS = 1            # one step either side of the current one


def secret_aad(user_id: int) -> str:
    """The secret's ciphertext is bound to its row like personal data."""
    return field_aad("user_account", "totp_secret_enc", user_id)


def secret(uow: UnitOfWork, user: User) -> str:
    """The user's TOTP secret in clear (enrolment page and code checks only)."""
    return uow.services.cipher.decrypt(user.totp_secret_enc or "", aad=secret_aad(user.id))


def current_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(key: str, code: str, now: datetime) -> int | None:
    """The time step within the drift window whose code is ``code``; None if none is."""
    if not is_totp_code(code):  # compare_digest refuses non-ASCII text: check the shape first
        return None
    totp = pyotp.TOTP(key)
    here = current_step(now)
    for step in (here, here - DRIFT_STEPS, here + DRIFT_STEPS):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def is_totp_code(code: str) -> bool:
    """Six ASCII digits (anything else may still be a recovery code)."""
    return len(code) == 6 and code.isascii() and code.isdigit()


def normal(code: str) -> str:
    """A typed code without spaces and dashes, lower case."""
    return "".join(code.split()).replace("-", "").lower()


def check_code(uow: UnitOfWork, user: User, code: str) -> str | None:
    """Accept a current TOTP code (once per time step) or an unused recovery code (once);
    returns which one was used ("totp" | "recovery_code"), None when neither matches. Inside
    the caller's unit of work; conditional updates make two racing uses of one code count once."""
    code = normal(code)
    if not code or user.totp_secret_enc is None:
        return None
    if is_totp_code(code):
        step = matching_step(secret(uow, user), code, uow.clock.now())
        if step is None:
            return None
        taken = uow.session.execute(
            update(User).where(User.id == user.id,
                               or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step).execution_options(synchronize_session=False))
        return "totp" if taken.rowcount else None  # type: ignore[attr-defined]
    ph = hasher(uow.services.settings)
    unused = uow.session.scalars(select(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)))
    for row in unused:
        try:
            ph.verify(row.code_hash, code)
        except (VerificationError, InvalidHashError):
            continue
        used = uow.session.execute(
            update(RecoveryCode).where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
            .values(used_at=uow.clock.now()).execution_options(synchronize_session=False))
        return "recovery_code" if used.rowcount else None  # type: ignore[attr-defined]
    return None
