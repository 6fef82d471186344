"""Blueprint ``alarms``: the quarantine of alarms from unknown devices (intake clerks, admins)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue

from web.context import actor, new_uow
from workflows.alarms.quarantine import PAGE, list_quarantine

bp = Blueprint("alarms", __name__, url_prefix="/alarms")


@bp.get("/quarantine")
def quarantine() -> ResponseReturnValue:
    """The newest quarantined alarms; 403 (audited) for anyone but clerks and administrators."""
    return render_template("alarms/quarantine.html", found=list_quarantine(new_uow(), actor()),
                           page_size=PAGE)
