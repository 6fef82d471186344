"""Second factor in the browser flow: enrolment, the code step, account page, admin reset."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from engine.models import AuditEvent
from tests.second_factor_support import KNOWN_SECRET, fresh_code
from tests.web.conftest import PASSWORD, csrf_token, login, post
from workflows.core.actors import SYSTEM
from workflows.people import admin

SECRET = re.compile(r'data-testid="enrol-secret">([A-Z2-7 ]+)<')


def _password_only(client, username: str):
    token = csrf_token(client)
    return client.post("/auth/login", data={"username": username, "password": PASSWORD,
                                            "csrf_token": token, "next": "/admin/users"})


def test_new_administrator_enrols_right_after_the_password(app, client, services, users):
    admin.create_user(services.new_uow(), SYSTEM, username="newboss", password=PASSWORD,
                      roles=["admin"], display_name="新管理员")
    response = _password_only(client, "newboss")
    assert response.headers["Location"] == "/auth/enrol?next=/admin/users"
    # nothing else is reachable: pages redirect, JSON asks for the factor
    assert client.get("/admin/users").headers["Location"] == "/auth/enrol?next=/admin/users"
    assert client.get("/inbox", headers={"Accept": "application/json"}).status_code == 401
    page = client.get("/auth/enrol?next=/admin/users").get_data(as_text=True)
    assert "<svg" in page and "必须使用双因素登录" in page
    secret = SECRET.search(page).group(1).replace(" ", "")
    token = csrf_token(client, "/auth/enrol")
    wrong = client.post("/auth/enrol", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 422 and "动态验证码或恢复码不正确" in wrong.get_data(as_text=True)
    done = client.post("/auth/enrol", data={
        "code": pyotp.TOTP(secret).at(services.clock.now()), "csrf_token": token,
        "next": "/admin/users"})
    codes = re.findall(r"<li class=\"col\">([a-z0-9]{5}-[a-z0-9]{5})</li>",
                       done.get_data(as_text=True))
    assert done.status_code == 200 and len(codes) == 10
    assert client.get("/admin/users").status_code == 200
    account = client.get("/auth/account").get_data(as_text=True)
    assert "剩余恢复码 10 个" in account


def test_enrolled_user_gives_a_code_after_the_password(client, services, users):
    response = _password_only(client, "auditor")
    assert response.headers["Location"] == "/auth/factor?next=/admin/users"
    assert client.get("/audit/").headers["Location"].startswith("/auth/factor?next=")
    token = csrf_token(client, "/auth/factor")
    wrong = client.post("/auth/factor", data={"code": "123456", "csrf_token": token})
    assert wrong.status_code == 401 and "验证码不正确" in wrong.get_data(as_text=True)
    right = client.post("/auth/factor", data={"code": fresh_code(services, "auditor"),
                                              "csrf_token": token, "next": "/audit/"})
    assert right.status_code == 302 and right.headers["Location"] == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_wrong_codes_lock_like_wrong_passwords(client, services, users):
    _password_only(client, "process_owner")
    token = csrf_token(client, "/auth/factor")
    statuses = [client.post("/auth/factor", data={"code": "000000", "csrf_token": token})
                .status_code for _ in range(services.settings.login_max_failures + 1)]
    assert statuses[-1] == 429 and set(statuses[:-1]) == {401}
    right = client.post("/auth/factor", data={"code": fresh_code(services, "process_owner"),
                                              "csrf_token": token})
    assert right.status_code == 429


def test_other_roles_enrol_from_their_account_page(as_role, services):
    client = as_role("mediator")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "未启用" in page and "/auth/enrol" in page
    enrol = client.get("/auth/enrol").get_data(as_text=True)
    assert "必须使用双因素登录" not in enrol
    secret = SECRET.search(enrol).group(1).replace(" ", "")
    done = post(client, "/auth/enrol", {"code": pyotp.TOTP(secret).at(services.clock.now())})
    assert done.status_code == 200 and "只显示这一次" in done.get_data(as_text=True)
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/inbox")})
    assert _password_only(client, "mediator").headers["Location"].startswith("/auth/factor")


def test_password_change_needs_the_code(as_role, services):
    client = as_role("admin")
    form = {"old_password": PASSWORD, "new_password": "new-secret-pass-9",
            "confirm_password": "new-secret-pass-9"}
    assert "动态验证码或恢复码" in client.get("/auth/password").get_data(as_text=True)
    refused = post(client, "/auth/password", {**form, "code": "000000"})
    assert refused.status_code == 422
    services.clock.advance(seconds=30)
    done = post(client, "/auth/password", {**form, "code": fresh_code(services, "admin")})
    assert done.status_code == 302


def test_admin_resets_a_lost_factor_on_the_account_page(as_role, services, users, app):
    client = as_role("admin")
    page = client.get("/admin/users/auditor").get_data(as_text=True)
    assert 'data-testid="user-factor">已启用' in page and "重置双因素登录" in page
    other = app.test_client()
    assert login(other, "auditor").status_code == 302
    done = post(client, "/admin/users/auditor/second-factor")
    assert done.status_code == 302
    assert "未启用" in client.get("/admin/users/auditor").get_data(as_text=True)
    assert other.get("/audit/").status_code == 302  # the auditor's session ended
    with services.new_uow() as uow:
        assert uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "second_factor_reset")).one()
    assert _password_only(other, "auditor").headers["Location"].startswith("/auth/enrol")
    assert KNOWN_SECRET not in page
