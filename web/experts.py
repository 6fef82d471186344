"""Blueprint ``experts``: the expert pool (administrators edit it), inviting an expert to a
case's session (its mediator), and the expert's own pages: their invitations, the case under
their scope and the written opinion."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from web.admin_directory import unit_options
from web.context import actor, new_uow, services
from web.labels import label
from web.messages import field_errors
from workflows.access.policy import Denied, denials_audited
from workflows.casework import views as case_views
from workflows.core.errors import ErrorCode, InvalidInput
from workflows.mediation import experts as pool
from workflows.mediation import invitations
from workflows.models import ExpertField, RoleCode

bp = Blueprint("experts", __name__)
EXPERT_FIELDS = ("username", "display_name", "field", "unit_code", "organisation",
                 "organisation_code", "contact", "active")
POOL_READERS = (RoleCode.ADMIN, RoleCode.MEDIATOR, RoleCode.SUPERVISOR, RoleCode.LEADER)


def day_names(days: list[int]) -> str:
    """ISO weekdays in words (周一、周三); every day when none are set."""
    names = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]
    return _("、").join(names[d - 1] for d in days if 1 <= d <= 7) or _("不限")


def _require(rule: str, *roles: str) -> None:
    who = actor()
    with denials_audited(services(), who, path=request.path, method=request.method):
        if not who.has(*roles):
            raise Denied(ErrorCode.NOT_PERMITTED, rule, object_type="page", object_id="experts")


# -- the pool -------------------------------------------------------------------------------------
@bp.get("/experts")
def pool_page() -> ResponseReturnValue:
    """The expert pool: field, unit, organisation, masked contact, available days."""
    _require("view_experts.role", *POOL_READERS)
    return render_template("experts/pool.html", experts=pool.list_experts(new_uow()),
                           editable=actor().has(RoleCode.ADMIN), day_names=day_names)


def _form_page(expert: dict | None, form: dict, errors: dict | None = None,
               status: int = 200) -> ResponseReturnValue:
    options = [(str(f), label("expert_field", f)) for f in ExpertField]
    return render_template("experts/form.html", expert=expert, form=form, options=options,
                           units=unit_options(form.get("unit_code") or ""),
                           errors=field_errors(errors), day_names=day_names), status


def _read_form() -> dict:
    form: dict = {k: request.form.get(k, "").strip() for k in EXPERT_FIELDS}
    form["available_days"] = [d for d in request.form.getlist("available_days")
                              if d.isdigit()][:7]
    return form


@bp.route("/experts/new", methods=["GET", "POST"])
def expert_new() -> ResponseReturnValue:
    """A new expert with a sign-in account (administrators); the first password shown once."""
    _require("edit_experts.admin", RoleCode.ADMIN)
    if request.method == "GET":
        return _form_page(None, {"available_days": []})
    form = _read_form()
    try:
        saved = pool.save_expert(new_uow(), actor(), form)
    except InvalidInput as exc:
        return _form_page(None, form, exc.field_errors, 422)
    return render_template("experts/created.html", saved=saved, name=form["display_name"])


@bp.route("/experts/<int:expert_id>", methods=["GET", "POST"])
def expert_edit(expert_id: int) -> ResponseReturnValue:
    """Edit an expert (administrators); a blank contact keeps the stored one."""
    _require("edit_experts.admin", RoleCode.ADMIN)
    expert = pool.expert_form(new_uow(), expert_id)
    if request.method == "GET":
        form = {**expert, "display_name": expert["name"], "contact": "",
                "active": "true" if expert["active"] else ""}
        return _form_page(expert, form)
    form = _read_form()
    try:
        pool.save_expert(new_uow(), actor(), form, expert_id=expert_id)
    except InvalidInput as exc:
        return _form_page(expert, form, exc.field_errors, 422)
    flash(_("专家信息已保存"), "success")
    return redirect(url_for("experts.pool_page"))


# -- inviting (the case's mediator) ---------------------------------------------------------------
@bp.post("/cases/<case_no>/sessions/<int:session_id>/experts")
def invite(case_no: str, session_id: int) -> ResponseReturnValue:
    """``action=check``: the conflicts of interest before confirming; ``action=invite``: invite
    (with a reason when there are conflicts); the expert is told the time and place."""
    values = {"expert_id": request.form.get("expert_id", "").strip()[:20],
              "shared_note": request.form.get("shared_note", "")[:2000],
              "reason": request.form.get("reason", "")[:400]}
    try:
        preview = invitations.preview_invitation(new_uow(), actor(), case_no=case_no,
                                                 session_id=session_id,
                                                 expert_id=values["expert_id"])
    except InvalidInput as exc:
        return _case_again(case_no, exc)
    if request.form.get("action") != "invite":
        return _confirm_page(case_no, session_id, preview, values)
    try:
        invitations.invite_expert(new_uow(), actor(), case_no=case_no, session_id=session_id,
                                  **values)
    except InvalidInput as exc:
        return _confirm_page(case_no, session_id, preview, values, exc.field_errors, 422)
    flash(_("已邀请 %(name)s，已通知专家", name=preview.expert["name"]), "success")
    return redirect(url_for("cases.detail", case_no=case_no) + "#sessions")


def _confirm_page(case_no: str, session_id: int, preview: invitations.Preview, values: dict,
                  errors: dict | None = None, status: int = 200) -> ResponseReturnValue:
    return render_template("experts/invite.html", case_no=case_no, session_id=session_id,
                           preview=preview, values=values, errors=field_errors(errors),
                           day_names=day_names), status


def _case_again(case_no: str, exc: InvalidInput) -> ResponseReturnValue:
    page = case_views.case_page(new_uow(), actor(), case_no)
    return render_template("cases/detail.html", page=page, case=page.summary, revealed={},
                           session_errors=list(field_errors(exc.field_errors).values())), 422


# -- the expert's pages ---------------------------------------------------------------------------
@bp.get("/expert")
def home() -> ResponseReturnValue:
    """The expert's invitations: pending, opinion due, done."""
    rows = invitations.my_invitations(new_uow(), actor())
    groups = {state: [r for r in rows if r["state"] == state] for state in ("due", "pending",
                                                                           "done")}
    return render_template("experts/home.html", groups=groups)


@bp.get("/expert/invitations/<int:invitation_id>")
def invitation(invitation_id: int) -> ResponseReturnValue:
    """The case under the expert's scope and their opinion form (audited)."""
    return _invitation_page(invitation_id, {}, None)


def _invitation_page(invitation_id: int, form: dict, errors: dict | None,
                     status: int = 200) -> ResponseReturnValue:
    page = invitations.expert_case(new_uow(), actor(), invitation_id)
    return render_template("experts/case.html", page=page, form=form,
                           errors=field_errors(errors)), status


@bp.post("/expert/invitations/<int:invitation_id>/opinion")
def opinion(invitation_id: int) -> ResponseReturnValue:
    """Submit the written opinion once: it becomes a document of the case."""
    form = {k: request.form.get(k, "")[:8000] for k in invitations.OPINION_LIMITS}
    try:
        invitations.submit_opinion(new_uow(), actor(), invitation_id, form)
    except InvalidInput as exc:
        return _invitation_page(invitation_id, form, exc.field_errors, 422)
    flash(_("书面意见已提交，调解员可在案件页查看"), "success")
    return redirect(url_for("experts.invitation", invitation_id=invitation_id))
