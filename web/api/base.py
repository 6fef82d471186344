"""Blueprint ``api_v1`` (/api/v1): Bearer-token auth for channel systems and scripts, JSON only."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from web.api.refusals import RefusalLog
from web.context import client_ip, end_reads, keep_directory_stamp, reads, services
from workflows.access import tokens
from workflows.audit.log import AuditAction
from workflows.core.actors import Actor

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
# signed with a channel secret instead of a bearer token (workflows/channels/signing.py)
PUBLIC_ENDPOINTS = {"api_v1.openapi", "api_v1.hotline_orders"}


@bp.before_request
def authenticate():
    """Resolve ``Authorization: Bearer jf_<prefix>_<secret>``; 401 (audited) otherwise."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _sep, raw = request.headers.get("Authorization", "").partition(" ")
    found = tokens.read_token(reads(), raw.strip(), _clock_now(), ip=client_ip()) \
        if scheme.lower() == "bearer" and raw.strip() else None
    if found is None:
        decision = refusal_log().note(client_ip(), _prefix(raw.strip()))
        if decision.audit:
            _audit_refused(raw.strip(), decision.folded, decision.throttled)
        if decision.throttled:
            response = jsonify(error="too_many_requests",
                               message=_("被拒绝的请求过多，请 60 秒后再试"))
            response.headers["Retry-After"] = "60"
            return response, 429
        response = jsonify(error="unauthenticated", message=_("令牌缺失、未知、已撤销或已过期"))
        response.headers["WWW-Authenticate"] = 'Bearer realm="jiefen"'
        return response, 401
    if found.stale:   # at most every few minutes a token's use is stamped, in its own write
        end_reads()
        tokens.touch_token(services(), found.token_id)
    g.api_actor, g.api_token_id = found.actor, found.token_id
    keep_directory_stamp(found.directory_stamp)
    return None


def _clock_now():
    # not services(): that would end the reads this check is made in
    return current_app.extensions["jiefen_services"].clock.now()


def _prefix(raw: str) -> str | None:
    return raw.split("_")[1][:8] if raw.startswith("jf_") and raw.count("_") >= 2 else None


def refusal_log() -> RefusalLog:
    """This app's refusal counters (one per app and process)."""
    log = current_app.extensions.get("jiefen_api_refusals")
    if log is None:
        log = current_app.extensions["jiefen_api_refusals"] = RefusalLog(
            services().settings.api_refusals_per_minute)
    return log


def _audit_refused(raw: str, folded: int = 0, throttled: bool = False) -> None:
    """An unknown or revoked token is a security event; only the prefix is recorded, once
    per IP, prefix and minute (``folded``: refusals of the previous minute not written singly)."""
    uow = services().new_uow()
    with uow:
        uow.audit.record(AuditAction.ACCESS_DENIED, Actor(type="api", ip=client_ip()),
                         object_type="api_token", object_id=_prefix(raw),
                         rule="api.throttled" if throttled else "api.token_invalid",
                         decision="deny", path=request.path, method=request.method,
                         folded=folded)
        uow.commit()

