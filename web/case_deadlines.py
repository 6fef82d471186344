"""The case page's 时限 actions: request a suspension (中止)
or an extension (延期) of an SLA clock, approve or refuse it (a supervisor who is not the
requester), end a suspension, and a supervisor's 催办 or 督办单 by hand. The services check and audit; a form error re-shows the case page
with the messages (422)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, new_uow
from web.messages import field_errors
from workflows.casework import views as case_views
from workflows.core.errors import InvalidInput
from workflows.deadlines import case_panel as case_deadlines

bp = Blueprint("case_deadlines", __name__)


def _back(case_no: str) -> ResponseReturnValue:
    return redirect(url_for("cases.detail", case_no=case_no, _anchor="h-deadlines"))


@bp.post("/cases/<case_no>/deadlines/request")
def deadline_request(case_no: str) -> ResponseReturnValue:
    """A handler asks to suspend or extend one running clock, with a reason."""
    form = request.form
    try:
        case_deadlines.request_clock_change(
            new_uow(), actor(), case_no=case_no, kind=form.get("kind", ""),
            request_kind=form.get("request_kind", ""), reason=form.get("reason", "")[:1000],
            amount=form.get("amount", ""), unit=form.get("unit", ""))
    except InvalidInput as exc:
        page = case_views.case_page(new_uow(), actor(), case_no)
        return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                               deadline_form=form, deadline_errors=field_errors(exc.field_errors)
                               ), 422
    flash(_("时限申请已提交，等待督办员审批"), "success")
    return _back(case_no)


@bp.post("/cases/<case_no>/deadlines/decide")
def deadline_decide(case_no: str) -> ResponseReturnValue:
    """A supervisor or leader approves or refuses a pending request."""
    approve = request.form.get("decision") == "approve"
    case_deadlines.decide_clock_request(new_uow(), actor(), case_no=case_no,
                                        request_id=request.form.get("request_id", ""),
                                        approve=approve, note=request.form.get("note", ""))
    flash(_("已批准时限申请") if approve else _("已驳回时限申请"), "success")
    return _back(case_no)


@bp.post("/cases/<case_no>/deadlines/resume")
def deadline_resume(case_no: str) -> ResponseReturnValue:
    """End an approved suspension: the clock runs again from now."""
    case_deadlines.end_clock_suspension(new_uow(), actor(), case_no=case_no,
                                        request_id=request.form.get("request_id", ""))
    flash(_("已恢复计时"), "success")
    return _back(case_no)


@bp.post("/cases/<case_no>/deadlines/notice")
def deadline_notice(case_no: str) -> ResponseReturnValue:
    """A supervisor sends a 催办 or a 督办单 by hand, with the reason the unit will read."""
    form = request.form
    try:
        sent = case_deadlines.issue_notice(new_uow(), actor(), case_no=case_no,
                                           level=form.get("level", ""),
                                           reason=form.get("reason", "")[:200],
                                           unit=form.get("unit", ""))
    except InvalidInput as exc:
        page = case_views.case_page(new_uow(), actor(), case_no)
        return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                               notice_form=form, notice_errors=field_errors(exc.field_errors)
                               ), 422
    if not sent:
        flash(_("刚刚已发出同样的催办或督办"), "info")
    elif form.get("level") == "1":
        flash(_("督办单已发出，承办单位须在一个工作日内书面答复"), "success")
    else:
        flash(_("催办已发出"), "success")
    return _back(case_no)
