"""Security headers and cookie flags: no external origins, no framing, dynamic pages never
cached, session cookies that scripts cannot read."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from flask import Flask, Response, g, request

from workflows.core.settings import Settings

CSP = ("default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; "
       "base-uri 'self'; form-action 'self'")
HSTS = "max-age=31536000; includeSubDomains"
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def cookie_config(settings: Settings) -> dict:
    """Session cookie flags: Secure with a __Host- name except in dev and tests."""
    secure = not (settings.dev_mode or settings.testing)
    return {
        "SESSION_COOKIE_NAME": "__Host-jiefen" if secure else "jiefen",
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=settings.session_max_age_hours),
    }


def start_request() -> None:
    """A correlation id per request (logs and the 500 page show it); a proxy's id is kept only
    when it is a plain token (it is echoed in a response header and in logs)."""
    given = request.headers.get("X-Request-Id", "")
    g.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def add_headers(response: Response) -> Response:
    """Every response: CSP, HSTS, nosniff, no referrer; dynamic pages are never cached."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("Strict-Transport-Security", HSTS)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers["X-Request-Id"] = g.get("request_id", "")
    if request.endpoint != "static":
        # pages and API answers may carry personal data: never stored by browsers or proxies
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.before_request(start_request)
    app.after_request(add_headers)
