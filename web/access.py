"""Default deny at the HTTP edge: every endpoint needs a signed-in user unless marked public.

Object-level decisions (department, tier, assignment) are the policy's (workflows/access/policy.py),
asked by every service; this module only refuses anonymous requests before a view runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

F = TypeVar("F", bound=Callable)
PUBLIC_ATTR = "_jiefen_public"


def public(view: F) -> F:
    """Mark a view as reachable without signing in (sign-in page, health check, language)."""
    setattr(view, PUBLIC_ATTR, True)
    return view


def is_public(endpoint: str | None) -> bool:
    """True for static files and views marked ``@public`` (API views check tokens themselves)."""
    if endpoint is None:
        return True  # 404/405: nothing to protect, the error handler answers
    if endpoint == "static" or endpoint.startswith("api_v1."):
        return True
    view = current_app.view_functions.get(endpoint)
    return bool(getattr(view, PUBLIC_ATTR, False))


# what a session that has passed the password only may reach (the factor pages and sign-out)
STAGE_ENDPOINTS = {"factor": {"auth.factor", "auth.logout"},
                   "enrol": {"auth.enrol", "auth.logout"}}
STAGE_PAGES = {"factor": "auth.factor", "enrol": "auth.enrol"}


def require_login():
    """before_request: anonymous requests to protected endpoints go to the sign-in page, and a
    session still owing its second factor (or its enrolment) goes to that page."""
    if is_public(request.endpoint):
        return None
    if current_user.is_authenticated:
        stage = current_user.stage
        if stage in STAGE_ENDPOINTS and request.endpoint not in STAGE_ENDPOINTS[stage]:
            if request.headers.get("HX-Request") or \
                    request.accept_mimetypes.best == "application/json":
                return jsonify(error="second_factor_required"), 401
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for(STAGE_PAGES[stage], next=target))
        return None
    if request.headers.get("HX-Request") or request.accept_mimetypes.best == "application/json":
        return jsonify(error="unauthenticated"), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    app.before_request(require_login)
