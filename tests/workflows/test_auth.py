"""Sign-in services: argon2id, server-side sessions, throttling, API tokens, user admin."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from workflows.access import sign_in as auth
from workflows.access import tokens
from workflows.core.actors import SYSTEM
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.core.settings import Settings
from workflows.models import Department, LoginSession, User
from workflows.people import admin

PASSWORD = "correct-horse-42"


@pytest.fixture
def dept(services):
    with services.new_uow() as uow:
        uow.session.add(Department(code="ZJ", name="区住建局", tier="district", responsibilities=[]))
        uow.commit()
    return "ZJ"


@pytest.fixture
def handler(services, dept):
    admin.create_user(services.new_uow(), SYSTEM, username="zhang", password=PASSWORD,
                      roles=["dept_handler"], department_code=dept, display_name="张承办")
    return "zhang"


def _actions(services) -> list[str]:
    with services.new_uow() as uow:
        return list(uow.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_password_is_stored_as_argon2id(services, handler):
    """The stored hash is argon2id with the configured cost, never the password."""
    with services.new_uow() as uow:
        user = uow.session.scalars(select(User).where(User.username == handler)).one()
        assert user.password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the test cost
        assert PASSWORD not in user.password_hash


def test_default_hashing_cost_is_the_rfc_9106_low_memory_profile():
    from argon2.profiles import RFC_9106_LOW_MEMORY

    default = Settings()
    assert (default.argon2_time_cost, default.argon2_memory_kib, default.argon2_parallelism) \
        == (RFC_9106_LOW_MEMORY.time_cost, RFC_9106_LOW_MEMORY.memory_cost,
            RFC_9106_LOW_MEMORY.parallelism)
    tuned = Settings.from_env({"JIEFEN_ARGON2_TIME_COST": "2", "JIEFEN_ARGON2_MEMORY_KIB": "2048",
                               "JIEFEN_ARGON2_PARALLELISM": "2"})
    assert auth.hasher(tuned).hash(PASSWORD).startswith("$argon2id$v=19$m=2048,t=2,p=2$")


def test_login_opens_a_session_with_roles_and_department(services, handler):
    result = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip="10.0.0.1")
    assert result.user.roles == {"dept_handler"}
    assert result.user.department_code == "ZJ"
    resumed = auth.resume(services, result.session_id)
    assert resumed is not None and resumed.username == handler
    assert "login_succeeded" in _actions(services)


def test_each_login_gets_a_new_session_id(services, handler):
    first = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    second = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    assert first.session_id != second.session_id


def test_session_cookie_value_is_not_stored(services, handler):
    result = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    with services.new_uow() as uow:
        stored = list(uow.session.scalars(select(LoginSession.id_hash)))
    assert result.session_id not in stored
    assert auth.session_hash(result.session_id) in stored


def test_wrong_password_and_unknown_user_fail_alike(services, handler):
    """Same exception for an unknown account and a wrong password; both audited."""
    with pytest.raises(auth.LoginFailed) as wrong:
        auth.login(services.new_uow(), username=handler, password="nope-nope-1", ip="10.0.0.2")
    with pytest.raises(auth.LoginFailed) as unknown:
        auth.login(services.new_uow(), username="ghost", password="nope-nope-1", ip="10.0.0.2")
    assert str(wrong.value) == str(unknown.value)
    assert _actions(services).count("login_failed") == 2


def test_logout_ends_the_session_at_once(services, handler):
    """A cookie captured before sign-out no longer works."""
    result = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    auth.logout(services.new_uow(), result.session_id, result.user.actor())
    assert auth.resume(services, result.session_id) is None


def test_disabling_a_user_ends_all_sessions(services, handler):
    """Three open sessions are all rejected after the account is disabled."""
    ids = [auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None).session_id
           for _ in range(3)]
    assert admin.disable_user(services.new_uow(), SYSTEM, username=handler) == 3
    assert all(auth.resume(services, raw) is None for raw in ids)
    with pytest.raises(auth.LoginFailed):
        auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)


def test_idle_and_absolute_timeouts(services, handler, clock):
    """31 idle minutes end a session; so do 8 hours of activity."""
    idle = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    clock.advance(minutes=31)
    assert auth.resume(services, idle.session_id) is None
    busy = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    for _ in range(16):  # 16 x 29 min = 7 h 44 min
        clock.advance(minutes=29)
        assert auth.resume(services, busy.session_id) is not None
    clock.advance(minutes=29)
    assert auth.resume(services, busy.session_id) is None


def test_throttling_per_username_survives_a_correct_password(services, handler):
    """After 5 failures even the right password is refused until the window passes."""
    for _ in range(5):
        with pytest.raises(auth.LoginFailed):
            auth.login(services.new_uow(), username=handler, password="wrong-pass-1", ip=None)
    with pytest.raises(auth.LoginThrottled):
        auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)


def test_throttling_window_expires(services, handler, clock):
    for _ in range(5):
        with pytest.raises(auth.LoginFailed):
            auth.login(services.new_uow(), username=handler, password="wrong-pass-1", ip=None)
    clock.advance(minutes=16)
    assert auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)


def test_throttling_per_ip_across_usernames(services, handler):
    for n in range(20):
        with pytest.raises(auth.LoginFailed):
            auth.login(services.new_uow(), username=f"u{n}", password="x-wrong-12", ip="10.9.9.9")
    with pytest.raises(auth.LoginThrottled):
        auth.login(services.new_uow(), username=handler, password=PASSWORD, ip="10.9.9.9")
    assert auth.login(services.new_uow(), username=handler, password=PASSWORD, ip="10.9.9.8")


def test_outdated_hash_parameters_are_upgraded_at_login(services, handler):
    """A hash made with weaker parameters is replaced on the next sign-in (at the
    production cost, not the tests' cheap one)."""
    from argon2 import PasswordHasher

    default = Settings()
    production = replace(services, settings=replace(
        services.settings, argon2_time_cost=default.argon2_time_cost,
        argon2_memory_kib=default.argon2_memory_kib, argon2_parallelism=default.argon2_parallelism))
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with services.new_uow() as uow:
        uow.session.scalars(select(User).where(User.username == handler)).one().password_hash = weak
        uow.commit()
    auth.login(production.new_uow(), username=handler, password=PASSWORD, ip=None)
    with services.new_uow() as uow:
        stored = uow.session.scalars(select(User).where(User.username == handler)).one()
        assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert not auth.hasher(production.settings).check_needs_rehash(stored.password_hash)


def test_change_password_revokes_other_sessions(services, handler):
    old = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    new = auth.change_password(services.new_uow(), old.user.actor(), old=PASSWORD,
                               new="another-pass-77", ip=None)
    assert auth.resume(services, old.session_id) is None
    assert auth.resume(services, new.session_id) is not None


def test_wrong_old_passwords_count_as_failed_sign_ins_and_are_throttled(services, handler,
                                                                        clock):
    from engine.models import AuditEvent

    session = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip="10.0.0.9")
    me = session.user.actor()
    clock.advance(minutes=1)
    for _ in range(services.settings.login_max_failures):
        with pytest.raises(InvalidInput):
            auth.change_password(services.new_uow(), me, old="guess-guess-1", new="another-pass-77",
                                 ip="10.0.0.9")
    with pytest.raises(InvalidInput) as refused:          # even the right one, for a while
        auth.change_password(services.new_uow(), me, old=PASSWORD, new="another-pass-77",
                             ip="10.0.0.9")
    assert refused.value.field_errors["old_password"].code == ErrorCode.TOO_MANY_ATTEMPTS
    with services.session_factory() as db:
        reasons = [e.payload for e in db.scalars(select(AuditEvent).where(
            AuditEvent.action == "login_failed"))]
    assert sum("wrong_old_password" in p for p in reasons) == services.settings.login_max_failures
    assert any("password_change_throttled" in p for p in reasons)
    assert auth.resume(services, session.session_id) is not None   # nothing changed


def test_weak_password_is_refused(services, dept):
    with pytest.raises(InvalidInput):
        admin.create_user(services.new_uow(), SYSTEM, username="li", password="123456789012",
                          roles=["mediator"])


def test_admin_and_auditor_cannot_be_one_account(services):
    with pytest.raises(InvalidInput):
        admin.create_user(services.new_uow(), SYSTEM, username="both", password=PASSWORD,
                          roles=["admin", "auditor"])


def test_unknown_department_is_refused(services):
    with pytest.raises(InvalidInput):
        admin.create_user(services.new_uow(), SYSTEM, username="x", password=PASSWORD,
                          roles=["mediator"], department_code="NOPE")


def test_token_is_shown_once_and_verified_by_hash(services, handler):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=handler, channel="grid_app")
    assert issued.token.startswith(f"jf_{issued.prefix}_")
    actor, token_id = tokens.verify_token(services, issued.token)
    assert actor.type == "api" and actor.channel == "grid_app" and actor.roles == {"dept_handler"}
    assert token_id == issued.id
    secret = issued.token.removeprefix(f"jf_{issued.prefix}_")   # may itself hold a "_"
    with services.new_uow() as uow:
        dump = " ".join(str(v) for v in uow.session.execute(select(
            tokens.ApiToken.prefix, tokens.ApiToken.token_hash)).one())
    assert secret not in dump


def test_wrong_secret_with_a_valid_prefix_is_refused(services, handler):
    issued = tokens.issue_token(services.new_uow(), SYSTEM, username=handler)
    forged = issued.token[:-4] + ("aaaa" if not issued.token.endswith("aaaa") else "bbbb")
    assert tokens.verify_token(services, forged) is None
    assert tokens.verify_token(services, "Bearer nonsense") is None


def test_revoked_expired_and_disabled_tokens_are_refused(services, handler, clock):
    revoked = tokens.issue_token(services.new_uow(), SYSTEM, username=handler)
    assert tokens.revoke_token(services.new_uow(), SYSTEM, prefix=revoked.token) == 1
    assert tokens.verify_token(services, revoked.token) is None
    expiring = tokens.issue_token(services.new_uow(), SYSTEM, username=handler, days=1)
    clock.advance(hours=25)
    assert tokens.verify_token(services, expiring.token) is None
    live = tokens.issue_token(services.new_uow(), SYSTEM, username=handler)
    admin.disable_user(services.new_uow(), SYSTEM, username=handler)
    assert tokens.verify_token(services, live.token) is None


def test_list_departments_is_sorted_by_code(services, dept):
    with services.new_uow() as uow:
        uow.session.add(Department(code="GA", name="公安分局", tier="district", responsibilities=[]))
        uow.commit()
    codes = [code for code, _ in admin.list_departments(services.new_uow())]
    assert codes == sorted(codes) and {"GA", "ZJ"} <= set(codes)


def test_unknown_channel_is_refused(services, handler):
    with pytest.raises(InvalidInput):
        tokens.issue_token(services.new_uow(), SYSTEM, username=handler, channel="fax")


def test_touch_is_rate_limited(services, handler, clock):
    result = auth.login(services.new_uow(), username=handler, password=PASSWORD, ip=None)
    clock.advance(seconds=30)
    auth.resume(services, result.session_id)
    with services.new_uow() as uow:
        row = uow.session.scalars(select(LoginSession)).one()
        assert clock.now() - row.last_seen_at == timedelta(seconds=30)


def test_token_label_holds_no_personal_data(services, handler):
    with pytest.raises(InvalidInput) as refused:
        tokens.issue_token(services.new_uow(), SYSTEM, username=handler, channel="portal",
                           name="张三 13800000088")
    assert refused.value.field_errors["name"].code == ErrorCode.PERSONAL_DATA_IN_TEXT
