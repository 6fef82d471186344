"""JIEFEN_PROXY_FIX: behind trusted proxies the client's address reaches throttling and audit."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import PASSWORD, csrf_token
from web import create_app
from workflows.access import sign_in as auth
from workflows.core.settings import Settings
from workflows.models import LoginAttempt

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _client(settings, services, proxies: int):
    return create_app(replace(settings, proxy_fix=proxies), services=services).test_client()


def _login(client, username: str, password: str, forwarded: str | None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    token = csrf_token(client)
    return client.post("/auth/login", headers=headers, environ_base=PROXY,
                       data={"username": username, "password": password, "csrf_token": token})


def _failure_ips(services) -> list[tuple[str | None, str | None]]:
    with services.new_uow() as uow:
        attempts = list(uow.session.scalars(select(LoginAttempt.ip).order_by(LoginAttempt.id)))
        events = [json.loads(p).get("ip") for p in uow.session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == "login_failed")
            .order_by(AuditEvent.id))]
    return list(zip(attempts, events, strict=True))


def test_setting_is_read_from_the_environment():
    assert Settings.from_env({"JIEFEN_PROXY_FIX": "2"}).proxy_fix == 2
    assert Settings.from_env({}).proxy_fix == 0


@pytest.mark.parametrize(("proxies", "forwarded", "seen"), [
    (0, "203.0.113.7", "10.0.0.2"),                   # no proxy trusted: the header is ignored
    (1, "203.0.113.7", "203.0.113.7"),                # one proxy: its X-Forwarded-For
    (1, "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # a spoofed first hop is not trusted
    (2, "198.51.100.1, 203.0.113.7", "198.51.100.1"),
])
def test_client_address_in_throttling_and_audit(settings, services, users, proxies, forwarded,
                                                seen):
    client = _client(settings, services, proxies)
    assert _login(client, "mediator", "wrong-password-9", forwarded).status_code == 401
    assert _failure_ips(services) == [(seen, seen)]


def test_one_clients_typos_do_not_lock_out_the_office(settings, services, users):
    """Per-IP throttling counts each client behind the proxy separately."""
    client = _client(settings, services, 1)
    for n in range(20):
        assert _login(client, f"nobody{n}", "wrong-password-9", "203.0.113.7").status_code == 401
    assert _login(client, "dept_handler", PASSWORD, "203.0.113.7").status_code == 429
    assert _login(client, "dept_handler", PASSWORD, "203.0.113.8").status_code == 302


def test_attempts_during_a_lockout_do_not_extend_it(services, users, clock):
    for _ in range(5):
        with pytest.raises(auth.LoginFailed):
            auth.login(services.new_uow(), username="mediator", password="wrong-9x", ip=None)
    clock.advance(minutes=10)
    for _ in range(5):
        with pytest.raises(auth.LoginThrottled):
            auth.login(services.new_uow(), username="mediator", password="wrong-9x", ip=None)
    clock.advance(minutes=6)  # 16 minutes after the failures that caused the lockout
    assert auth.login(services.new_uow(), username="mediator", password=PASSWORD, ip=None)
    with services.new_uow() as uow:  # the refused attempts are still audited
        reasons = [json.loads(p)["reason"] for p in uow.session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == "login_failed"))]
    assert reasons.count("throttled") == 5 and reasons.count("bad_credentials") == 5
