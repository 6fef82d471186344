"""Blueprint ``satisfaction``: record the citizen's rating and comment, and an agreement
performed early (the mediator's 记录已付款 / 已履行 on the case page).

While the case waits for the rating (SMS link / APP, T-52) the page records it as the ``rating``
message; once the window has passed, the phone return visit is a task and the page leads to it.
'Dissatisfied' follows the process back to verification and re-handling.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow, services
from web.messages import field_errors, message
from workflows.access.policy import Permission, denials_audited, require
from workflows.casework import events as case_events
from workflows.casework import views as case_views
from workflows.core.errors import InvalidInput
from workflows.library import contract

bp = Blueprint("satisfaction", __name__)
SOURCES = ("sms_link", "app", "phone")


@bp.get("/cases/<case_no>/satisfaction")
def record(case_no: str) -> ResponseReturnValue:
    """The rating form, or the return-visit step when the rating window has passed."""
    case = case_views.case_brief(new_uow(), actor(), case_no)
    for task in case["tasks"]:
        if task["bpmn_id"] in contract.SATISFACTION_TASKS and task["can_act"]:
            return redirect(url_for("tasks.show", case_no=case_no, task_id=task["task_id"]))
    with denials_audited(services(), actor(), object_type="case", object_id=case_no):
        require(actor(), Permission.RECORD_RATING)
    return render_template("satisfaction/record.html", case=case, form={}, errors={})


@bp.post("/cases/<case_no>/satisfaction")
def submit(case_no: str) -> ResponseReturnValue:
    """Record the rating; a case not waiting for one answers 409 with the input kept."""
    with denials_audited(services(), actor(), object_type="case", object_id=case_no):
        require(actor(), Permission.RECORD_RATING)  # before any validation: a refusal is a 403
    form = request.form
    source = form.get("source") if form.get("source") in SOURCES else "phone"
    comment = (form.get("comment") or "").strip()
    try:
        case_events.record_rating(new_uow(), actor(), case_no=case_no,
                                  rating=form.get("rating", ""),
                                  comment=f"[{source}] {comment}" if comment else "")
    except InvalidInput as exc:
        case = case_views.case_brief(new_uow(), actor(), case_no)
        return render_template("satisfaction/record.html", case=case, form=form,
                               errors=field_errors(exc.field_errors)), 422
    flash(_("已记录群众评价"), "success")
    return redirect(url_for("cases.detail", case_no=case_no))


@bp.post("/cases/<case_no>/performance")
def performance(case_no: str) -> ResponseReturnValue:
    """The parties performed the agreement before its period ran out: the case moves on now.
    A case no longer waiting (recorded already, or the period ran out first) is a 409."""
    with denials_audited(services(), actor(), object_type="case", object_id=case_no):
        require(actor(), Permission.RECORD_PERFORMANCE)
    target = url_for("cases.detail", case_no=case_no)
    try:
        case_events.record_performance(new_uow(), actor(), case_no=case_no,
                                       note=request.form.get("note", ""))
    except InvalidInput as exc:
        flash(" ".join(filter(None, (message(e) for e in exc.field_errors.values()))), "danger")
        return redirect(target + "#performance")
    flash(_("已记录协议已履行，案件继续办理"), "success")
    return redirect(target)
