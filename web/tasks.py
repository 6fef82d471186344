"""Blueprint ``tasks``: the guided step page, completion with field errors kept, claim/release."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from web.context import actor, new_uow, reads, services
from web.forms import task_form_fields
from web.labels import instruction_filters
from web.mediation import room_options
from web.messages import field_errors
from web.uploads import upload_limits, uploaded_files
from workflows.access.policy import Permission, denials_audited, require, visible_case_no
from workflows.attachments.store import FIELD
from workflows.casework import tasks as task_service
from workflows.casework import views as case_views
from workflows.core import dates
from workflows.core.errors import InvalidInput
from workflows.library.contract import DUPLICATE_DECISION, MEDIATOR_CHOICE, PLAN_DATE_FIELDS
from workflows.library.instructions import render_instructions
from workflows.mediation.mediators import mediator_choices
from workflows.mediation.rooms import room_choices

bp = Blueprint("tasks", __name__, url_prefix="/cases/<case_no>/tasks")
ROOM_FIELD, TIME_FIELDS = "room_code", ("session_start", "session_end")


def render_task(case_no: str, task_id: str, values=None, errors=None) -> str:
    """The step page: instructions, case summary, form, earlier documents, what comes next."""
    page = case_views.task_page(new_uow(), actor(), case_no, task_id)
    # instructions are process-owner Markdown, rendered in a sandbox and sanitized by nh3; codes
    # in them are shown in words through the label tables and the unit names
    instructions = Markup(render_instructions(  # noqa: S704
        page.task.instructions, page.task.data, instruction_filters(page.unit_names)))
    fields = task_form_fields(page.task.form, page.known if values is None else values,
                              field_errors(errors), _days())
    for f in fields:
        if f["id"] == ROOM_FIELD:   # the booking form: the rooms of the mediator's unit
            f.update(type="enum", options=room_options(room_choices(new_uow(), actor())))
        elif f["id"] in MEDIATOR_CHOICE.values():   # mediators by name, grouped by unit
            if groups := mediator_choices(new_uow(), actor(), case_no):
                f.update(type="enum", groups=groups,
                         options=[option for _unit, options in groups for option in options])
        elif f["id"] == DUPLICATE_DECISION.get(page.task.bpmn_id, ("", ""))[1]:
            # the original case is one of the candidates the duplicate check found: chosen
            candidates = page.task.data.get("duplicate_candidates") or []
            if candidates:
                f.update(type="enum", options=[(code, code) for code in candidates])
        elif f["id"] in TIME_FIELDS:
            f.update(help=_("整刻钟，例如 09:00、14:30"))
        elif f["id"] in PLAN_DATE_FIELDS:   # a session's day lies ahead
            f.update(min=_days()[1].isoformat(), max=None)
    words = field_errors(errors)
    return render_template("tasks/step.html", page=page, case=page.summary, fields=fields,
                           errors=words, instructions=instructions,
                           file_error=words.get(FIELD), attachment_limits=upload_limits())


def _days() -> tuple[date, date]:
    """A task form's dates record what happened: from the floor to today."""
    settings = services().settings
    return dates.floor(settings), dates.latest_past(services().clock.now(), settings)


@bp.get("/<task_id>")
def show(case_no: str, task_id: str) -> ResponseReturnValue:
    """Show one ready task (only to someone who may complete it)."""
    return render_task(case_no, task_id)


@bp.post("/<task_id>")
def submit(case_no: str, task_id: str) -> ResponseReturnValue:
    """Complete the task; field errors re-display the form with what was typed (422)."""
    # a field sent several times (the boxes of a choice of several) is a list
    raw = {k: vs if len(vs) > 1 else vs[0] for k, vs in request.form.lists() if k != "csrf_token"}
    try:
        result = task_service.complete_task(new_uow(), actor(), case_no=case_no,
                                            task_id=task_id, raw=raw, files=uploaded_files())
    except InvalidInput as exc:
        return render_task(case_no, task_id, raw, exc.field_errors), 422
    flash(_("「%(name)s」已提交", name=result.name), "success")
    target = url_for("cases.detail", case_no=case_no)
    if not visible_case_no(reads(), actor(), case_no):
        flash(_("案件 %(case_no)s 已转出您的办理范围", case_no=case_no), "info")
        target = url_for("cases.inbox")
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


@bp.post("/<task_id>/claim")
def claim(case_no: str, task_id: str) -> ResponseReturnValue:
    """Take a group task; colleagues see it as being handled."""
    task_service.claim_task(new_uow(), actor(), case_no=case_no, task_id=task_id)
    flash(_("已认领任务"), "success")
    return redirect(request.form.get("back") == "inbox" and url_for("cases.inbox")
                    or url_for("tasks.show", case_no=case_no, task_id=task_id))


@bp.post("/<task_id>/release")
def release(case_no: str, task_id: str) -> ResponseReturnValue:
    """Give a claimed task back to the group (only roles that work on tasks may try)."""
    with denials_audited(services(), actor(), object_type="task", object_id=task_id):
        require(actor(), Permission.CLAIM_TASK)
    task_service.release_task(new_uow(), actor(), case_no=case_no, task_id=task_id)
    flash(_("已释放任务"), "info")
    return redirect(url_for("cases.inbox"))
