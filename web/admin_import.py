"""Blueprint ``directory_import``: places, units and accounts from a CSV or XLSX file, previewed
before anything is written (administrators only)."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from web.context import actor, services
from workflows.people import admin

bp = Blueprint("directory_import", __name__, url_prefix="/admin/import")
KINDS = ("places", "units", "users")


@bp.before_request
def admins_only() -> None:
    """Nothing a request carries is read for anyone but an administrator (denial audited)."""
    admin.require_admin(actor(), services())


@bp.get("/")
def index() -> ResponseReturnValue:
    """Choose what to import and the file; the columns of each kind are explained."""
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else "places"
    return render_template("admin/import.html", kind=kind, errors={})


@bp.post("/preview")
def preview() -> ResponseReturnValue:
    """What the file would create and update, and its bad rows; nothing is written."""
    return render_template("admin/import.html", kind="places", errors={}), 422
