"""Second factor at sign-in (TOTP and recovery codes) on the injected clock."""

from __future__ import annotations

import json
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from workflows.access import second_factor
from workflows.access import sign_in as auth
from workflows.access.sign_in import Stage
from workflows.core.actors import SYSTEM
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.models import LoginSession, RecoveryCode, User
from workflows.people import admin

PASSWORD = "correct-horse-42"
IP = "10.0.0.9"


@pytest.fixture
def make_user(services):
    def make(username: str, role: str) -> str:
        admin.create_user(services.new_uow(), SYSTEM, username=username, password=PASSWORD,
                          roles=[role], display_name=username)
        return username
    return make


def _login(services, username: str, password: str = PASSWORD) -> auth.LoginResult:
    return auth.login(services.new_uow(), username=username, password=password, ip=IP)


def _enrol(services, username: str) -> tuple[str, list[str]]:
    """Sign in, enrol through the service as the page does; returns (secret, recovery codes)."""
    pending = _login(services, username)
    me = pending.user.actor(IP)
    enrolment = second_factor.start_enrolment(services.new_uow(), me)
    code = pyotp.TOTP(enrolment.secret).at(services.clock.now())
    codes, _ = second_factor.confirm_enrolment(services.new_uow(), me, code=code, ip=IP,
                                               raw_session=pending.session_id)
    return enrolment.secret, codes


def _code(services, secret: str, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(services.clock.now() + timedelta(seconds=30 * steps))


def _verify(services, username: str, code: str) -> auth.LoginResult:
    pending = _login(services, username)
    assert pending.user.stage == Stage.FACTOR
    return second_factor.verify(services.new_uow(), pending.user.actor(IP),
                                raw_session=pending.session_id, code=code, ip=IP)


def _row(services, username: str) -> tuple:
    """(secret ciphertext, enrolled at, last step) of an account."""
    with services.new_uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == username)).one()
        return user.totp_secret_enc, user.totp_enrolled_at, user.totp_last_step


def _actions(services) -> list[str]:
    with services.new_uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("role", ["admin", "process_owner", "auditor"])
def test_privileged_roles_must_enrol_before_anything_else(services, make_user, role):
    """A privileged account without a factor gets a session that may only enrol; resuming it
    says so, and enrolling replaces it with a full session under a new id."""
    pending = _login(services, make_user("boss", role))
    assert pending.user.stage == Stage.ENROL
    assert auth.resume(services, pending.session_id).stage == Stage.ENROL
    me = pending.user.actor(IP)
    enrolment = second_factor.start_enrolment(services.new_uow(), me)
    assert enrolment.uri.startswith("otpauth://totp/jiefen:boss?secret=")
    codes, full = second_factor.confirm_enrolment(
        services.new_uow(), me, code=_code(services, enrolment.secret), ip=IP,
        raw_session=pending.session_id)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert full is not None and full.user.stage == Stage.FULL
    assert full.session_id != pending.session_id
    assert auth.resume(services, pending.session_id) is None
    assert auth.resume(services, full.session_id).stage == Stage.FULL
    assert "second_factor_enrolled" in _actions(services)


def test_other_roles_sign_in_with_the_password_alone_until_they_enrol(services, make_user):
    result = _login(services, make_user("clerk", "intake_clerk"))
    assert result.user.stage == Stage.FULL
    me = result.user.actor(IP)
    assert not second_factor.status(services.new_uow(), me).required
    enrolment = second_factor.start_enrolment(services.new_uow(), me)
    codes, promoted = second_factor.confirm_enrolment(
        services.new_uow(), me, code=_code(services, enrolment.secret), ip=IP)
    assert promoted is None and len(codes) == 10
    assert second_factor.status(services.new_uow(), me).recovery_codes_left == 10
    services.clock.advance(seconds=30)
    assert _login(services, "clerk").user.stage == Stage.FACTOR  # enforced from now on


def test_secret_is_stored_encrypted_and_kept_until_confirmed(services, make_user):
    pending = _login(services, make_user("boss", "admin"))
    me = pending.user.actor(IP)
    first = second_factor.start_enrolment(services.new_uow(), me)
    again = second_factor.start_enrolment(services.new_uow(), me)  # a reload of the page
    assert again.secret == first.secret
    stored = _row(services, "boss")[0]
    assert stored and first.secret not in stored
    for wrong in ("000000", "１２３４５６", "😀😀😀😀😀😀", "abc"):
        with pytest.raises(InvalidInput) as refused:
            second_factor.confirm_enrolment(services.new_uow(), me, code=wrong, ip=IP,
                                            raw_session=pending.session_id)
        assert refused.value.field_errors["code"].code == ErrorCode.WRONG_SECOND_FACTOR
    assert _row(services, "boss")[1] is None


def test_code_of_this_step_and_one_step_either_side_is_accepted(services, make_user):
    secret, _ = _enrol(services, make_user("boss", "admin"))
    for steps in (-1, 0, 1):
        services.clock.advance(seconds=90)  # a new step each time: no replay
        assert _verify(services, "boss", _code(services, secret, steps)).user.stage == Stage.FULL


@pytest.mark.parametrize("steps", [-2, 2])
def test_code_two_steps_away_is_refused(services, make_user, steps):
    secret, _ = _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=90)
    with pytest.raises(auth.LoginFailed):
        _verify(services, "boss", _code(services, secret, steps))


def test_replayed_code_is_refused(services, make_user):
    """A code seen once (same time step, or an earlier one) never opens a second session."""
    secret, _ = _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=60)
    code = _code(services, secret)
    _verify(services, "boss", code)
    with pytest.raises(auth.LoginFailed):
        _verify(services, "boss", code)
    services.clock.advance(seconds=30)
    with pytest.raises(auth.LoginFailed):  # the previous step is within the window, yet older
        _verify(services, "boss", _code(services, secret, -1))
    assert _verify(services, "boss", _code(services, secret)).user.stage == Stage.FULL


def test_the_enrolment_code_cannot_be_replayed_at_the_next_sign_in(services, make_user):
    admin.create_user(services.new_uow(), SYSTEM, username="boss", password=PASSWORD,
                      roles=["admin"], display_name="boss")
    pending = _login(services, "boss")
    me = pending.user.actor(IP)
    enrolment = second_factor.start_enrolment(services.new_uow(), me)
    code = _code(services, enrolment.secret)
    second_factor.confirm_enrolment(services.new_uow(), me, code=code, ip=IP,
                                    raw_session=pending.session_id)
    with pytest.raises(auth.LoginFailed):
        _verify(services, "boss", code)


def test_wrong_codes_are_throttled_like_wrong_passwords(services, make_user):
    """Five wrong codes lock the username; typing the right password again does not restart the
    count, and during the lock even the right code is refused."""
    secret, _ = _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=60)
    for _ in range(services.settings.login_max_failures):
        with pytest.raises(auth.LoginFailed):
            _verify(services, "boss", "123456")
    with pytest.raises(auth.LoginThrottled):
        _login(services, "boss")
    assert _actions(services).count("login_failed") >= 6
    services.clock.advance(minutes=services.settings.login_window_minutes + 1)
    assert _verify(services, "boss", _code(services, secret)).user.stage == Stage.FULL


def test_a_factor_session_does_nothing_but_wait_for_its_code(services, make_user):
    _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=60)
    pending = _login(services, "boss")
    assert auth.resume(services, pending.session_id).stage == Stage.FACTOR
    services.clock.advance(minutes=6)  # the code did not come in time
    assert auth.resume(services, pending.session_id) is None


def test_recovery_code_works_once(services, make_user):
    _, codes = _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=60)
    assert _verify(services, "boss", codes[3].upper().replace("-", " ")).user.stage == Stage.FULL
    with pytest.raises(auth.LoginFailed):
        _verify(services, "boss", codes[3])
    with services.new_uow() as uow:
        rows = uow.session.scalars(select(RecoveryCode)).all()
        assert len(rows) == 10 and sum(row.used_at is not None for row in rows) == 1
        assert all(row.code_hash.startswith("$argon2id$") for row in rows)
        assert not any(code.replace("-", "") in row.code_hash for row in rows for code in codes)


def test_admin_resets_a_lost_factor(services, make_user):
    secret, _ = _enrol(services, make_user("boss", "auditor"))
    services.clock.advance(seconds=60)
    live = _verify(services, "boss", _code(services, secret))
    admin.create_user(services.new_uow(), SYSTEM, username="root", password=PASSWORD,
                      roles=["admin"], display_name="root")
    operator = admin.user_detail(services.new_uow(), SYSTEM, "root").summary
    with services.new_uow() as uow:
        root = uow.session.get(User, operator.id)
        from workflows.access.policy import actor_for_user
        root_actor = actor_for_user(root)
    assert admin.user_detail(services.new_uow(), root_actor, "boss").second_factor_at is not None
    ended = admin.reset_second_factor(services.new_uow(), root_actor, username="boss")
    assert ended == 2  # the session opened by the enrolment and the later sign-in
    assert auth.resume(services, live.session_id) is None
    assert admin.user_detail(services.new_uow(), root_actor, "boss").second_factor_at is None
    assert _row(services, "boss") == (None, None, None)
    with services.new_uow() as uow:
        assert not uow.session.scalars(select(RecoveryCode)).all()
        event = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "second_factor_reset")).one()
        assert event.actor_id == str(operator.id) and json.loads(event.payload)["was_enrolled"]
    assert _login(services, "boss").user.stage == Stage.ENROL  # enrols again


def test_only_admins_reset_a_factor(services, make_user):
    _enrol(services, make_user("boss", "admin"))
    clerk = _login(services, make_user("clerk", "intake_clerk")).user.actor(IP)
    with pytest.raises(Exception, match="admin"):
        admin.reset_second_factor(services.new_uow(), clerk, username="boss")
    assert _row(services, "boss")[1] is not None


def test_password_reset_keeps_the_factor_and_a_password_change_needs_a_code(services, make_user):
    secret, _ = _enrol(services, make_user("boss", "admin"))
    new_password = admin.reset_password(services.new_uow(), SYSTEM, username="boss")
    services.clock.advance(seconds=60)
    pending = _login(services, "boss", new_password)
    assert pending.user.stage == Stage.FACTOR  # the one-time password alone is not enough
    full = second_factor.verify(services.new_uow(), pending.user.actor(IP),
                                raw_session=pending.session_id,
                                code=_code(services, secret), ip=IP)
    me = full.user.actor(IP)
    with pytest.raises(InvalidInput) as refused:
        auth.change_password(services.new_uow(), me, old=new_password, new="another-pass-77",
                             ip=IP, code="")
    assert refused.value.field_errors["code"].code == ErrorCode.WRONG_SECOND_FACTOR
    services.clock.advance(seconds=30)
    changed = auth.change_password(services.new_uow(), me, old=new_password,
                                   new="another-pass-77", ip=IP, code=_code(services, secret))
    assert changed.user.stage == Stage.FULL


def test_a_role_granted_later_asks_for_enrolment_in_the_open_session(services, make_user):
    result = _login(services, make_user("lee", "intake_clerk"))
    with services.new_uow() as uow:
        from workflows.models import Role, UserRole
        user = uow.session.scalars(select(User).where(User.username == "lee")).one()
        role = uow.session.scalars(select(Role).where(Role.code == "auditor")).one()
        uow.session.add(UserRole(user_id=user.id, role_id=role.id))
        uow.commit()
    assert auth.resume(services, result.session_id).stage == Stage.ENROL


def test_second_step_needs_the_own_password_only_session(services, make_user):
    secret, _ = _enrol(services, make_user("boss", "admin"))
    services.clock.advance(seconds=60)
    pending = _login(services, "boss")
    with services.new_uow() as uow:  # a full session of the same account is not a stage session
        full_raw = "x" * 43
        uow.session.add(LoginSession(id_hash=auth.session_hash(full_raw), user_id=pending.user.user_id,
                                     created_at=services.clock.now(),
                                     last_seen_at=services.clock.now(),
                                     expires_at=services.clock.now() + timedelta(hours=1)))
        uow.commit()
    with pytest.raises(auth.LoginFailed):
        second_factor.verify(services.new_uow(), pending.user.actor(IP), raw_session=full_raw,
                             code=_code(services, secret), ip=IP)
