"""Blueprint ``grid``: the grid worker's phone pages (390 px wide, large targets, plain words).

Report an issue from one's grid (category, short description, photo, a building or a place in
words), one's reports with their status, a report with its follow-up visits. The pages can be
added to the home screen (``static/manifest.webmanifest``); no service worker: every page needs
the server (a report is registered at once, the status is live).
"""

from __future__ import annotations

import mimetypes

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.labels import choices
from web.messages import field_errors
from workflows.core.errors import InvalidInput
from workflows.grid import reports as grid

bp = Blueprint("grid", __name__, url_prefix="/grid")
mimetypes.add_type("application/manifest+json", ".webmanifest")


@bp.get("/")
def home() -> ResponseReturnValue:
    """The grid's name, two big buttons and the newest reports."""
    here = grid.my_grid(new_uow(), actor())
    return render_template("grid/home.html", grid=here,
                           reports=grid.my_reports(new_uow(), actor())[:3])


@bp.get("/report")
def report_form() -> ResponseReturnValue:
    """An empty report form (the buildings of the grid to choose from)."""
    return _form_page({}, {}, 200)


def _form_page(form: dict, errors: dict, status: int) -> ResponseReturnValue:
    here = grid.my_grid(new_uow(), actor())
    return render_template("grid/report.html", grid=here, form=form, errors=field_errors(errors),
                           categories=choices("category")), status


@bp.post("/report")
def report_submit() -> ResponseReturnValue:
    """Register the report; the form again with the reasons (422) when something is refused."""
    form = {key: request.form.get(key, "") for key in ("category", "summary", "place_code",
                                                       "where")}
    upload = request.files.get("photo")
    photo = (upload.filename or "", upload.read()) if upload is not None and upload.filename \
        else None
    try:
        done = grid.report_issue(services(), actor(), grid.GridReportInput(**form, photo=photo))
    except InvalidInput as exc:
        return _form_page(form, exc.field_errors, 422)
    flash(_("已上报，编号 %(case_no)s", case_no=done.case_no), "success")
    return redirect(url_for("grid.report_detail", report_id=done.report_id))


@bp.get("/reports")
def reports() -> ResponseReturnValue:
    """My reports, newest first, with their status in plain words."""
    return render_template("grid/reports.html", reports=grid.my_reports(new_uow(), actor()))


@bp.get("/reports/<int:report_id>")
def report_detail(report_id: int) -> ResponseReturnValue:
    """One of my reports with its visits and the form for a new visit."""
    return _detail_page(report_id, {}, {}, 200)


def _detail_page(report_id: int, form: dict, errors: dict, status: int) -> ResponseReturnValue:
    detail = grid.report_detail(new_uow(), actor(), report_id)
    return render_template("grid/detail.html", detail=detail, form=form,
                           errors=field_errors(errors), outcomes=choices("visit_outcome")), status


@bp.post("/reports/<int:report_id>/visits")
def record_visit(report_id: int) -> ResponseReturnValue:
    """Record a follow-up visit on my report."""
    form = {"outcome": request.form.get("outcome", ""), "note": request.form.get("note", "")}
    try:
        grid.record_visit(services(), actor(), report_id, **form)
    except InvalidInput as exc:
        return _detail_page(report_id, form, exc.field_errors, 422)
    flash(_("回访已记录"), "success")
    return redirect(url_for("grid.report_detail", report_id=report_id))
