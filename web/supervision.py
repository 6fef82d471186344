"""Blueprint ``supervision``: what is overdue and what the escalation ladder sent (督办)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template, request
from flask.typing import ResponseReturnValue

from web.context import actor, services
from workflows import supervision
from workflows.models import RoleCode
from workflows.policy import Denied, denials_audited

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)


def register(app: Flask) -> None:
    """Add the supervision page to the app."""
    app.register_blueprint(bp)


def require_supervisor() -> None:
    """Supervisors and leaders only; a denial is audited and becomes a 403 page."""
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(*ROLES):
            raise Denied("仅督办员和领导可查看督办情况", "supervision.role",
                         object_type="page", object_id="supervision")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Overdue work orders (worst first) and the notices of the last 30 days."""
    require_supervisor()
    who = actor()
    with services().session_factory() as session:
        overdue = supervision.overdue_orders(session, who)
        sent = supervision.ladder_sent(session, who, now=services().clock.now())
    return render_template("supervision/index.html", overdue=overdue, sent=sent)
