"""Blueprint ``supervision``: what is overdue and what the escalation ladder sent (督办), timer
incidents with retry (supervisors, leaders), and the departments' replies to 督办单."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.context import actor, services
from web.messages import field_errors
from workflows.access.policy import Denied, denials_audited
from workflows.casework import incidents as incident_service
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.deadlines import supervision
from workflows.models import RoleCode

bp = Blueprint("supervision", __name__, url_prefix="/supervision")
ROLES = (RoleCode.SUPERVISOR, RoleCode.LEADER)



def require_supervisor() -> None:
    """Supervisors and leaders only; a denial is audited and becomes a 403 page."""
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(*ROLES):
            raise Denied(ErrorCode.SUPERVISION_ROLE, "supervision.role",
                         object_type="page", object_id="supervision")


@bp.get("/")
def index() -> ResponseReturnValue:
    """Overdue work orders (worst first), incidents and the notices of the last 30 days."""
    require_supervisor()
    who = actor()
    with services().session_factory() as session:
        overdue = supervision.overdue_orders(session, who)
        sent = supervision.ladder_sent(session, who, now=services().clock.now())
        incidents = incident_service.incidents(session, who)
    return render_template("supervision/index.html", overdue=overdue, sent=sent,
                           incidents=incidents)


@bp.post("/incidents/<int:instance_id>/retry")
def retry(instance_id: int) -> ResponseReturnValue:
    """Sweep an instance whose timers failed again (audited ``incident_retried``)."""
    require_supervisor()
    case_no = incident_service.retry_incident(services(), actor(), instance_id)
    flash(_("案件 %(code)s 的定时任务将重新执行", code=case_no), "success")
    return redirect(url_for("supervision.index"))


def require_handler() -> None:
    """The 督办单 replies page is for department handlers; a denial is audited (403)."""
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(RoleCode.DEPT_HANDLER):
            raise Denied(ErrorCode.NOTICE_REPLY_ROLE, "reply_notice.role",
                         object_type="page", object_id="supervision_notices")


@bp.get("/notices")
def notices() -> ResponseReturnValue:
    """督办单 sent to my department, unanswered first, each with a reply form."""
    require_handler()
    with services().session_factory() as session:
        rows = supervision.department_notices(session, actor())
    return render_template("supervision/notices.html", notices=rows, errors={}, form={})


@bp.post("/notices/<int:notice_id>/reply")
def reply(notice_id: int) -> ResponseReturnValue:
    """The department's written explanation (情况说明) to one 督办单."""
    require_handler()
    note = request.form.get("note", "")[:2000]
    try:
        case_no = supervision.reply_notice(services(), actor(), notice_id, note=note)
    except InvalidInput as exc:
        with services().session_factory() as session:
            rows = supervision.department_notices(session, actor())
        return render_template("supervision/notices.html", notices=rows, form=request.form,
                               errors={notice_id: field_errors(exc.field_errors)}), 422
    flash(_("已答复案件 %(code)s 的督办单", code=case_no), "success")
    if request.form.get("back") == "case":
        return redirect(url_for("cases.detail", case_no=case_no, _anchor="h-deadlines"))
    return redirect(url_for("supervision.notices"))
