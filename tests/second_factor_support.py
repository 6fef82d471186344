"""Signing in privileged test users cheaply: their second factor is enrolled with a known secret,
and a code is computed from it with pyotp at the injected clock's time."""

from __future__ import annotations

import pyotp
from sqlalchemy import select, update

from workflows.access.codes import secret_aad
from workflows.access.sign_in import factor_required
from workflows.models import User

KNOWN_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # test accounts only


def enrol_known(services, username: str, secret: str = KNOWN_SECRET) -> None:
    """Give an account a confirmed second factor with ``secret`` (what enrolment would store)."""
    with services.new_uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one()
        user.totp_secret_enc = uow.services.cipher.encrypt(secret, aad=secret_aad(user.id))
        user.totp_enrolled_at = uow.clock.now()
        uow.commit()


def enrol_if_required(services, username: str, roles) -> None:
    if factor_required(set(roles)):
        enrol_known(services, username)


def fresh_code(services, username: str, secret: str = KNOWN_SECRET) -> str:
    """The current code of the account. The clock is frozen, so a second sign-in in the same
    time step would be a replay: the account's last used step is forgotten first."""
    with services.new_uow() as uow:
        uow.session.execute(update(User).where(User.username == username)
                            .values(totp_last_step=None))
        uow.commit()
    return pyotp.TOTP(secret).at(services.clock.now())


def give_code_if_asked(page, services, username: str) -> None:
    """Browser tests: answer the second-factor page (if the sign-in landed there) with the
    account's current code."""
    if "/auth/factor" not in page.url:
        return
    page.fill("[data-testid=factor-code]", fresh_code(services, username))
    with page.expect_navigation():
        page.click("[data-testid=factor-submit]")
