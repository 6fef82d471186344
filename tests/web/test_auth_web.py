"""Sign-in over HTTP: sessions that end at once, throttling, safe redirects, CSRF, cookie flags."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from engine.models import AuditEvent
from tests.web.conftest import PASSWORD, csrf_token, login, post
from web import create_app
from workflows.core.actors import SYSTEM
from workflows.people import admin


def _count(services, action: str) -> int:
    with services.new_uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.action == action))


def test_anonymous_page_request_goes_to_sign_in(client, users):
    response = client.get("/cases")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/cases")


def test_login_page_renders_in_chinese(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert "登录解纷平台" in page and 'name="csrf_token"' in page


def test_sign_in_lands_on_the_inbox(client, users):
    response = login(client, "mediator")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    assert "待办任务" in client.get("/inbox").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_answer(client, users, services):
    """One message, one status for both; both audited."""
    wrong = login(client, "mediator", "not-the-password-1")
    unknown = login(client, "nobody", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码不正确" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("用户名或密码不正确") == \
        unknown.get_data(as_text=True).count("用户名或密码不正确")
    assert _count(services, "login_failed") == 2


def test_repeated_failures_lock_the_account_temporarily(client, users):
    """The sixth attempt is refused even with the right password."""
    for _ in range(5):
        assert login(client, "mediator", "wrong-password-9").status_code == 401
    response = login(client, "mediator")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)


def test_next_parameter_only_redirects_inside_the_app(client, users):
    """An absolute or protocol-relative next= is ignored."""
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        token = csrf_token(client)
        response = client.post("/auth/login", data={"username": "mediator", "password": PASSWORD,
                                                     "csrf_token": token, "next": target})
        assert response.headers["Location"] == "/inbox"
        post(client, "/auth/logout")
    token = csrf_token(client)
    response = client.post("/auth/login", data={"username": "mediator", "password": PASSWORD,
                                                 "csrf_token": token, "next": "/cases?page=2"})
    assert response.headers["Location"] == "/cases?page=2"


def test_logout_revokes_the_session_on_the_server(app, client, users):
    """A cookie copied before sign-out is rejected afterwards."""
    login(client, "mediator")
    copied = client.get_cookie("jiefen").value
    post(client, "/auth/logout")
    thief = app.test_client()
    thief.set_cookie("jiefen", copied)
    assert thief.get("/inbox").status_code == 302


def test_disabling_an_account_ends_its_open_sessions(app, client, users, services):
    """The next request after disabling goes to the sign-in page."""
    login(client, "dept_handler")
    assert client.get("/inbox").status_code == 200
    admin.disable_user(services.new_uow(), SYSTEM, username="dept_handler")
    assert client.get("/inbox").status_code == 302


def test_session_cookie_changes_at_sign_in(client, users):
    """A new session id at login (no fixation)."""
    client.get("/auth/login")
    before = client.get_cookie("jiefen").value
    login(client, "mediator")
    assert client.get_cookie("jiefen").value != before


def test_post_without_csrf_token_is_refused(client, users):
    """A form post without the token changes nothing."""
    response = client.post("/auth/login", data={"username": "mediator", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_logout_is_post_only(client, users):
    login(client, "mediator")
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/inbox").status_code == 200


def test_password_change_ends_other_sessions(app, client, users):
    login(client, "mediator")
    other = app.test_client()
    login(other, "mediator")
    response = post(client, "/auth/password", {"old_password": PASSWORD,
                                               "new_password": "brand-new-pass-7",
                                               "confirm_password": "brand-new-pass-7"})
    assert response.status_code == 302
    assert client.get("/inbox").status_code == 200
    assert other.get("/inbox").status_code == 302


def test_password_change_errors_are_shown(client, users):
    login(client, "mediator")
    response = post(client, "/auth/password", {"old_password": "wrong-old-pass-1",
                                               "new_password": "brand-new-pass-7",
                                               "confirm_password": "brand-new-pass-7"})
    assert response.status_code == 422
    assert "原密码不正确" in response.get_data(as_text=True)


def test_production_cookie_flags(services, settings):
    """Secure, HttpOnly, SameSite=Lax and a __Host- name outside dev and tests."""
    from dataclasses import replace

    app = create_app(replace(settings, testing=False), services=services)
    response = app.test_client().get("/auth/login", base_url="https://jiefen.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-jiefen=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in cookie
    assert "Domain" not in cookie


@pytest.mark.parametrize("path", ["/inbox", "/auth/login", "/healthz", "/api/v1/openapi.json"])
def test_security_headers_on_every_response(client, users, path):
    """CSP with frame-ancestors, nosniff, no referrer, HSTS; no caching of pages."""
    login(client, "mediator")
    headers = client.get(path).headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "object-src 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/jiefen.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_an_unexpected_error_shows_a_generic_page(app, client, users):
    """No trace, no SQL; a request id to quote."""

    @app.get("/boom")
    def boom():
        raise RuntimeError("SELECT secret FROM party")

    login(client, "mediator")
    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "SELECT" not in body and "Traceback" not in body
    assert response.headers["X-Request-Id"] in body


def test_head_requests_never_attempt_a_sign_in(client, services):
    assert client.head("/auth/login").status_code == 200
    with services.new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
