"""Blueprint ``channels``: the quarantine of pushed work orders (intake clerks), the 诉求类型
mapping (admins), and the interface catalogue with its health (supervisors and admins)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow
from web.labels import choices
from web.messages import field_errors
from web.params import whole_number
from workflows.channels import mapping, quarantine
from workflows.channels.hotline import CHANNEL
from workflows.core.errors import InvalidInput

bp = Blueprint("channels", __name__, url_prefix="/channels")


@bp.get("/quarantine")
def quarantine_list() -> ResponseReturnValue:
    """Pushed work orders waiting to be completed by hand, oldest first (no personal data)."""
    page = quarantine.quarantined(new_uow(), actor())
    return render_template("channels/quarantine.html", page=page)


@bp.route("/mappings", methods=["GET", "POST"])
def mappings() -> ResponseReturnValue:
    """The 12345 诉求类型 -> category table (admins): add or change a row, or delete one."""
    errors: dict = {}
    form = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        try:
            delete = whole_number(form.get("delete"), None)
            if delete is not None:
                mapping.delete_mapping(new_uow(), actor(), delete)
            else:
                mapping.save_mapping(new_uow(), actor(), CHANNEL, form.get("source_text", ""),
                                     form.get("category", ""))
        except InvalidInput as exc:
            errors = field_errors(exc.field_errors)
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("channels.mappings"))
    rows = mapping.list_mappings(new_uow(), actor(), CHANNEL)
    return render_template("channels/mappings.html", rows=rows, errors=errors, form=form,
                           categories=choices("category")), 422 if errors else 200
