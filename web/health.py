"""GET /healthz: 200 with the database status (load balancers, monitoring)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from web.access import public
from web.context import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Answer 200 when the database answers, else 503; no details beyond up/down."""
    try:
        with services().session_factory() as session:
            session.execute(text("SELECT 1"))
        return jsonify(status="ok", database="ok")
    except Exception:  # any database failure is "down" for the probe
        return jsonify(status="degraded", database="unavailable"), 503
