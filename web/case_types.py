"""Blueprint ``case_types`` (/processes/case-types, role process_owner): which process a new case
of a category (and channel) starts on. The service refuses anyone but process owners."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow
from web.labels import choices
from web.messages import field_errors
from web.params import whole_number
from web.process_files import owners_only
from workflows.core.errors import InvalidInput
from workflows.processes import case_types

bp = Blueprint("case_types", __name__, url_prefix="/processes/case-types")
bp.before_request(owners_only)


@bp.route("/", methods=["GET", "POST"])
def table() -> ResponseReturnValue:
    """The case types: add or change a row (category, channel, entry process) or delete one."""
    errors: dict = {}
    form = request.form.to_dict() if request.method == "POST" else {}
    if request.method == "POST":
        try:
            delete = whole_number(form.get("delete"), None)
            if delete is not None:
                case_types.delete_case_type(new_uow(), actor(), delete)
            else:
                case_types.save_case_type(new_uow(), actor(), category=form.get("category", ""),
                                          channel=form.get("channel", ""),
                                          process_id=form.get("process_id", ""),
                                          note=form.get("note", ""))
        except InvalidInput as exc:
            errors = field_errors(exc.field_errors)
        else:
            flash(_("已保存"), "success")
            return redirect(url_for("case_types.table"))
    rows = case_types.list_case_types(new_uow(), actor())
    processes = case_types.entry_choices(new_uow(), actor())
    return render_template("processes/case_types.html", rows=rows, errors=errors, form=form,
                           categories=choices("category"), channels=choices("channel"),
                           processes=processes), 422 if errors else 200
